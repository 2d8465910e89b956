"""Small HTTP and polling helpers for tests against the real sandbox."""

import threading
import time
from collections import Counter
from typing import Callable, TypeVar

import pymysql
import requests

from chaoslib_edx import learner
from chaoslib_edx.sandbox import credentials
from chaoslib_edx.waiting import WaitTimeout, wait_until

T = TypeVar("T")


def login(base_url: str, username: str = "learner1", password: str = "edx") -> requests.Session:
    """A signed-in session as the authn MFE makes one (CSRF token, login session API); it
    sends the CSRF token on every request."""
    return learner.login(base_url, username, password)


def eventually(check: Callable[[], T], timeout: float = 20, interval: float = 0.1) -> T:
    """Poll CHECK until it returns something truthy (wait_until's loop); a test failure
    naming its last value otherwise."""
    try:
        return wait_until(check, timeout=timeout, interval=interval, what="the condition")
    except WaitTimeout as timeout_error:
        raise AssertionError(str(timeout_error)) from None


def settled(probe: Callable[[], T], still_s: float, timeout: float = 60) -> T:
    """PROBE's value once it has not changed for STILL_S seconds (a count that lands in
    batches: nginx's buffered log, Prometheus's scrapes); a busy machine waits longer."""
    seen: list[tuple[float, T]] = []

    def still() -> bool:
        now = time.monotonic()
        seen.append((now, probe()))
        recent = [value for at, value in seen if at >= now - still_s]
        return now - seen[0][0] >= still_s and all(v == recent[-1] for v in recent)

    eventually(still, timeout=timeout, interval=0.25)
    return seen[-1][1]


class Traffic:
    """Bounded GET traffic in a background thread; counts status codes (0 = no answer)."""

    def __init__(self, url: str, max_requests: int = 20000, max_seconds: float = 30) -> None:
        self.url, self.max_requests, self.max_seconds = url, max_requests, max_seconds
        self.codes: Counter = Counter()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline \
                and sum(self.codes.values()) < self.max_requests:
            try:
                self.codes[session.get(self.url, timeout=5).status_code] += 1
            except requests.RequestException as exc:
                self.codes[0] += 1
                self.errors.append(repr(exc))

    def __enter__(self) -> "Traffic":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def db_query_ms(layout) -> float:
    """One query's round trip through the db-path, as an LMS replica sends it (ms)."""
    password = credentials.read(layout.secrets_file)["DB_PASSWORD"]
    with pymysql.connect(host="127.0.0.1", port=layout.port("db_path"), user="edxapp",
                         password=password, database="edxapp", connect_timeout=10,
                         read_timeout=10) as conn, conn.cursor() as cur:
        began = time.monotonic()
        cur.execute("SELECT 1")
        cur.fetchall()
        return (time.monotonic() - began) * 1000
