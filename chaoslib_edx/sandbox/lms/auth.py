"""Sign-in as Open edX does it: the CSRF token API, the login session API (v1 by email,
v2 by email or username, and their /user_api aliases), the sign-in page, the dashboards.

Login limits, when the sandbox enforces them (sandbox.login_rate_limit), are Open edX's
defaults: 100 attempts per 5 minutes per IP (LOGISTRATION_RATELIMIT_RATE) and 30 per 5
minutes per account (LOGISTRATION_PER_EMAIL_RATELIMIT_RATE), counted in Redis like
django-ratelimit's cache; past them a 429.
"""

import json
import secrets

from flask import Blueprint, Response, jsonify, redirect, request
from markupsafe import escape

from chaoslib_edx.learner import (
    LOGIN_WINDOW_S,
    OPENEDX_LOGINS_PER_ACCOUNT,
    OPENEDX_LOGINS_PER_IP,
)
from chaoslib_edx.sandbox.database import password_hash
from chaoslib_edx.sandbox.lms.core import SESSION_TTL, lms, unauthorized

bp = Blueprint("auth", __name__)

LOGIN_LIMITS = (("ip", OPENEDX_LOGINS_PER_IP), ("account", OPENEDX_LOGINS_PER_ACCOUNT))
_BAD_CREDENTIALS = "Email or password is incorrect."


@bp.get("/csrf/api/v1/token")
def csrf_token() -> Response:
    token = request.cookies.get("csrftoken") or secrets.token_hex(32)
    response = jsonify(csrfToken=token)
    response.set_cookie("csrftoken", token, samesite="Lax")
    return response


@bp.get("/login")
def sign_in_page() -> Response:
    """The page the authn MFE serves; the API below does the signing in."""
    return Response("<!doctype html><title>Sign in</title><div id='root'></div>",
                    mimetype="text/html")


def _over_limit(account: str) -> bool:
    cache = lms().cache
    over = False
    for scope, limit in LOGIN_LIMITS:
        key = f"ratelimit:login:{scope}:{request.remote_addr if scope == 'ip' else account}"
        count = cache.incr(key)
        if count == 1:
            cache.expire(key, LOGIN_WINDOW_S)
        over = over or count > limit
    return over


@bp.post("/api/user/<any(v1, v2):version>/account/login_session/")
@bp.post("/user_api/<any(v1, v2):version>/account/login_session/")
def login_session(version: str) -> tuple[Response, int]:
    field = "email" if version == "v1" else "email_or_username"
    account, password = request.form.get(field, ""), request.form.get("password", "")
    if lms().config.login_rate_limit and _over_limit(account.lower()):
        return jsonify(detail="Too many failed login attempts. Try again later."), 429
    column = "email" if version == "v1" or "@" in account else "username"
    rows = lms().db.query(f"SELECT id, username, salt, password_hash FROM learners "
                          f"WHERE {column} = %s", (account,))
    if not rows or password_hash(rows[0]["salt"], password) != rows[0]["password_hash"]:
        return jsonify(success=False, value=_BAD_CREDENTIALS,
                       error_code="incorrect-email-or-password",
                       email_or_username=account), 400
    token = secrets.token_urlsafe(24)
    learner = {"id": rows[0]["id"], "username": rows[0]["username"]}
    lms().cache.set(f"session:{token}", json.dumps(learner), ex=SESSION_TTL)
    response = jsonify(success=True, redirect_url="/dashboard")
    response.set_cookie("sessionid", token, httponly=True, samesite="Lax")
    # django.contrib.auth.login() rotates the CSRF token: the one sent before is stale.
    response.set_cookie("csrftoken", secrets.token_hex(32), samesite="Lax")
    response.set_cookie("edxloggedin", "true", samesite="Lax")
    return response, 200


def _enrollments(learner_id: int) -> list[dict]:
    return lms().db.query(
        "SELECT c.id, c.name, e.mode, e.created FROM enrollments e JOIN courses c "
        "ON c.id = e.course_id WHERE e.learner_id = %s AND e.is_active", (learner_id,))


@bp.get("/dashboard")
def dashboard() -> Response:
    learner = lms().learner()
    if learner is None:
        return redirect(f"/login?next={request.path}", code=302)
    items = "".join(f"<li>{escape(row['name'])}</li>" for row in _enrollments(learner["id"]))
    return Response(f"<!doctype html><title>Dashboard</title><h1>{escape(learner['username'])}</h1>"
                    f"<ul>{items}</ul>", mimetype="text/html")


@bp.get("/api/learner_home/init")
def learner_home() -> tuple[Response, int]:
    learner = lms().learner()
    if learner is None:
        return unauthorized()
    courses = [{"courseRun": {"courseId": row["id"]}, "course": {"courseName": row["name"]},
                "enrollment": {"mode": row["mode"], "isEnrolled": True}}
               for row in _enrollments(learner["id"])]
    return jsonify(learner={"username": learner["username"]}, courses=courses), 200
