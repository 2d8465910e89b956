"""What every view of one sandbox LMS replica shares: its config, its database and cache
connections, the signed-in learner of a request and the answers common to all APIs."""

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pymysql
from flask import Response, current_app, jsonify, request

from chaoslib_edx.sandbox.clients import redis_client

SESSION_TTL = 3600
CACHE_TTL = 60


@dataclass(frozen=True)
class LmsConfig:
    replica: str
    db_port: int
    db_password: str
    redis_port: int
    tracking_dir: Path              # <state>/logs/tracking: one JSON Lines file per replica
    login_rate_limit: bool = False  # enforce Open edX's login limits (see auth.py)


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


class Lms:
    """What every view of one replica shares: its config, database and cache."""

    def __init__(self, config: LmsConfig) -> None:
        self.config = config
        self.db = _Db(config)
        self.cache = redis_client(config.redis_port, retries=1, decode_responses=True)

    def learner(self) -> dict | None:
        """The signed-in learner of this request ({id, username}), None if anonymous."""
        token = request.cookies.get("sessionid")
        raw = self.cache.get(f"session:{token}") if token else None
        return json.loads(raw) if raw else None

    def cached(self, key: str, load) -> object:
        """LOAD()'s value through the Redis cache (what Django's cache framework does)."""
        raw = self.cache.get(key)
        if raw is not None:
            return json.loads(raw)
        value = load()
        self.cache.set(key, json.dumps(value, default=str), ex=CACHE_TTL)
        return value

    def course(self, key: str) -> dict | None:
        """A course's row with its structure, cached; None for an unknown key."""
        def load() -> dict | None:
            rows = self.db.query("SELECT id, name, org, start_date, structure FROM courses "
                                 "WHERE id = %s", (key,))
            return {**rows[0], "structure": json.loads(rows[0]["structure"])} if rows else None
        return self.cached(f"course:{key}", load)


def lms() -> Lms:
    return current_app.extensions["lms"]


def unauthorized() -> tuple[Response, int]:
    """What a DRF API answers an anonymous or expired session."""
    return jsonify(detail="Authentication credentials were not provided."), 401
