"""Routes of the sandbox LMS (Open edX names), backed by the DB endpoint and Redis.

Each replica is one process; sessions live in Redis so any replica serves any learner.
"""

import json
import secrets
import threading
from dataclasses import dataclass

import pymysql
import redis
from flask import Flask, Response, jsonify, redirect, request

from chaoslib_edx.sandbox.clients import redis_client
from chaoslib_edx.sandbox.database import password_hash

SESSION_TTL = 3600
CACHE_TTL = 60
PROBLEM_ANSWER = "42"


@dataclass(frozen=True)
class LmsConfig:
    replica: str
    db_port: int
    db_password: str
    redis_port: int


class _Db:
    """One connection per worker thread to the DB endpoint. Like Django's
    CONN_HEALTH_CHECKS, a reused connection is pinged once per request, so a connection
    left stale by a failover is replaced instead of failing a learner's request."""

    def __init__(self, config: LmsConfig) -> None:
        self._config = config
        self._local = threading.local()

    def new_request(self) -> None:
        self._local.checked = False

    def _connect(self) -> pymysql.Connection:
        return pymysql.connect(host="127.0.0.1", port=self._config.db_port, user="edxapp",
                               password=self._config.db_password, database="edxapp",
                               autocommit=True, connect_timeout=2, read_timeout=5,
                               write_timeout=5, cursorclass=pymysql.cursors.DictCursor)

    def query(self, sql: str, args: tuple = ()) -> list[dict]:
        conn = getattr(self._local, "conn", None)
        try:
            if conn is None:
                conn = self._local.conn = self._connect()
            elif not getattr(self._local, "checked", False):
                conn.ping(reconnect=True)
            self._local.checked = True
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.err.OperationalError:
            # The endpoint may now lead elsewhere (failover): drop the connection so the
            # next request reconnects, and let this one fail as a real app would.
            self._local.conn = None
            raise


def create_app(config: LmsConfig) -> Flask:
    app = Flask("edx-sandbox-lms")
    db = _Db(config)
    cache = redis_client(config.redis_port, decode_responses=True)

    def learner() -> dict | None:
        token = request.cookies.get("sessionid")
        if not token:
            return None
        raw = cache.get(f"session:{token}")
        return json.loads(raw) if raw else None

    def cached(key: str, load) -> object:
        raw = cache.get(key)
        if raw is not None:
            return json.loads(raw)
        value = load()
        cache.set(key, json.dumps(value, default=str), ex=CACHE_TTL)
        return value

    def login_required() -> Response | None:
        if learner() is None:
            return redirect(f"/login?next={request.path}", code=302)
        return None

    @app.before_request
    def check_connection_on_next_query() -> None:
        db.new_request()

    @app.after_request
    def tag_replica(response: Response) -> Response:
        response.headers["X-Replica"] = config.replica
        return response

    @app.errorhandler(pymysql.err.MySQLError)
    def db_down(exc: Exception) -> tuple[Response, int]:
        return jsonify(error="database unavailable", detail=str(exc)), 503

    @app.errorhandler(redis.RedisError)
    def cache_down(exc: Exception) -> tuple[Response, int]:
        return jsonify(error="cache unavailable", detail=str(exc)), 503

    @app.get("/heartbeat")
    def heartbeat() -> tuple[Response, int]:
        checks = {}
        try:
            db.query("SELECT 1")
            checks["db"] = "ok"
        except pymysql.err.MySQLError as exc:
            checks["db"] = f"down: {exc}"
        try:
            cache.ping()
            checks["cache"] = "ok"
        except redis.RedisError as exc:
            checks["cache"] = f"down: {exc}"
        down = sorted(name for name, state in checks.items() if state != "ok")
        body = {"status": "ok" if not down else "down: " + ", ".join(down),
                "replica": config.replica, **checks}
        return jsonify(body), 503 if down else 200

    @app.post("/login")
    def login() -> tuple[Response, int]:
        form = request.get_json(silent=True) or request.form
        username, password = form.get("username", ""), form.get("password", "")
        rows = db.query("SELECT id, username, salt, password_hash FROM learners "
                        "WHERE username = %s", (username,))
        if not rows or password_hash(rows[0]["salt"], password) != rows[0]["password_hash"]:
            return jsonify(success=False, value="Email or password is incorrect."), 401
        token = secrets.token_urlsafe(24)
        cache.set(f"session:{token}", json.dumps({"id": rows[0]["id"], "username": username}),
                  ex=SESSION_TTL)
        response = jsonify(success=True, username=username)
        response.set_cookie("sessionid", token, httponly=True, samesite="Lax")
        return response, 200

    @app.get("/dashboard")
    def dashboard() -> Response | tuple[Response, int]:
        if (denied := login_required()) is not None:
            return denied
        user = learner()
        rows = db.query("SELECT c.id, c.name FROM enrollments e JOIN courses c "
                        "ON c.id = e.course_id WHERE e.learner_id = %s AND e.is_active",
                        (user["id"],))
        return jsonify(username=user["username"], enrollments=rows), 200

    @app.get("/api/courses/v1/courses/")
    def catalog() -> tuple[Response, int]:
        courses = cached("catalog:v1", lambda: db.query(
            "SELECT id, name, org, start_date AS start FROM courses ORDER BY id"))
        return jsonify(results=courses, pagination={"count": len(courses), "num_pages": 1}), 200

    @app.post("/api/enrollment/v1/enrollment")
    def enroll() -> Response | tuple[Response, int]:
        user = learner()
        if user is None:
            return jsonify(error="authentication required"), 401
        body = request.get_json(silent=True) or {}
        course = (body.get("course_details") or {}).get("course_id", "")
        if not db.query("SELECT id FROM courses WHERE id = %s", (course,)):
            return jsonify(error=f"unknown course_id '{course}'"), 400
        mode = body.get("mode", "audit")
        db.query("INSERT INTO enrollments (learner_id, course_id, mode) VALUES (%s, %s, %s) "
                 "ON DUPLICATE KEY UPDATE is_active = TRUE, mode = VALUES(mode)",
                 (user["id"], course, mode))
        return jsonify(user=user["username"], course_details={"course_id": course},
                       mode=mode, is_active=True), 200

    def course_outline(course: str) -> dict | None:
        def load() -> dict | None:
            rows = db.query("SELECT id, name, sections FROM courses WHERE id = %s", (course,))
            if not rows:
                return None
            return {"id": rows[0]["id"], "name": rows[0]["name"],
                    "sections": json.loads(rows[0]["sections"])}
        return cached(f"courseware:{course}", load)

    @app.get("/courses/<course>/courseware")
    def courseware(course: str) -> Response | tuple[Response, int]:
        if (denied := login_required()) is not None:
            return denied
        outline = course_outline(course)
        if outline is None:
            return jsonify(error=f"unknown course '{course}'"), 404
        return jsonify(outline), 200

    @app.post("/courses/<course>/problem/<int:problem>/check")
    def problem_check(course: str, problem: int) -> tuple[Response, int]:
        user = learner()
        if user is None:
            return jsonify(error="authentication required"), 401
        if course_outline(course) is None:
            return jsonify(error=f"unknown course '{course}'"), 404
        form = request.get_json(silent=True) or request.form
        correct = str(form.get("answer", "")) == PROBLEM_ANSWER
        db.query("INSERT INTO grades (learner_id, course_id, problem, correct) "
                 "VALUES (%s, %s, %s, %s) ON DUPLICATE KEY UPDATE "
                 "correct = VALUES(correct), attempts = attempts + 1",
                 (user["id"], course, problem, correct))
        return jsonify(success="correct" if correct else "incorrect",
                       current_score=int(correct), total_possible=1), 200

    return app
