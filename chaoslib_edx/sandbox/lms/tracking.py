"""Tracking events and the heartbeat, in Open edX's shapes.

POST /event appends one line per event to the replica's tracking log (JSON Lines, the
fields of edx-platform's tracking log). /heartbeat runs the basic checks (sql,
modulestore: the course store); `?extended` adds the cache.
"""

import json
import os
import threading
import time

import pymysql
import redis
from flask import Blueprint, Response, jsonify, request

from chaoslib_edx.sandbox.lms.core import lms

bp = Blueprint("tracking", __name__)
_write = threading.Lock()


@bp.post("/event")
def event() -> tuple[Response, int]:
    learner = lms().learner()
    payload = request.form.get("event", "{}")
    line = {"time": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "event_type": request.form.get("event_type", ""), "event_source": "browser",
            "event": payload, "page": request.form.get("page", ""),
            "username": learner["username"] if learner else "",
            "host": request.host, "ip": request.remote_addr,
            "agent": request.headers.get("User-Agent", "")}
    directory = lms().config.tracking_dir
    with _write:
        directory.mkdir(parents=True, exist_ok=True)
        # One write per line on an O_APPEND descriptor: lines never interleave.
        fd = os.open(directory / f"{lms().config.replica}.log",
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (json.dumps(line) + "\n").encode())
        finally:
            os.close(fd)
    return Response("success", mimetype="text/plain"), 200


def _check(run) -> dict:
    try:
        run()
        return {"status": True, "message": "OK"}
    except (pymysql.err.MySQLError, redis.RedisError) as exc:
        return {"status": False, "message": str(exc)}


@bp.get("/heartbeat")
def heartbeat() -> tuple[Response, int]:
    app = lms()
    checks = {"sql": _check(lambda: app.db.query("SELECT 1")),
              "modulestore": _check(lambda: app.db.query("SELECT id FROM courses LIMIT 1"))}
    if "extended" in request.args:
        checks["cache"] = _check(app.cache.ping)
    healthy = all(check["status"] for check in checks.values())
    return jsonify(checks), 200 if healthy else 503
