"""The sandbox LMS: Open edX's HTTP API as the authn and learning MFEs use it, backed by
MariaDB (through the DB endpoint) and Redis.

Each replica is one process; sessions live in Redis so any replica serves any learner.
Its own /metrics (lms.metrics) counts what it answered, by route class.
Like Django, unsafe requests need the `csrftoken` cookie echoed in `X-CSRFToken` (403
otherwise; no path is exempt, /event included, as in edx-platform's track.views) and a
login rotates the cookie; pages send an anonymous learner to /login, APIs answer 401.
"""

import pymysql
import redis
from flask import Flask, Response, jsonify, request

from chaoslib_edx.sandbox.lms import auth, learning, metrics, tracking
from chaoslib_edx.sandbox.lms.core import Lms, LmsConfig, lms

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def create_app(config: LmsConfig) -> Flask:
    app = Flask("edx-sandbox-lms")
    app.extensions["lms"] = Lms(config)
    for blueprint in (auth.bp, learning.bp, tracking.bp):
        app.register_blueprint(blueprint)

    @app.before_request
    def per_request() -> tuple[Response, int] | None:
        lms().db.new_request()
        if request.method in UNSAFE:
            cookie = request.cookies.get("csrftoken")
            if not cookie or request.headers.get("X-CSRFToken") != cookie:
                return jsonify(detail="CSRF Failed: CSRF token missing or incorrect."), 403
        return None

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

    app.wsgi_app = metrics.instrument(app.wsgi_app)  # type: ignore[method-assign]
    return app
