"""The console's web server, inside the runner's process: the page, the state as JSON, the
change stream and the team's actions, each under /api/ behind a role's bearer token.

Flask for the routes and waitress for the threads, both already the sandbox LMS's: each
open stream holds one of waitress's threads, so the pool is sized for MAX_VIEWERS and a
viewer over it is told so (503). The tokens travel in the URL's fragment (never sent in a
request line) and in the Authorization header (never a cookie, so no other site's page
can act with them); waitress logs no request lines.
"""

import hmac
import queue
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, send_from_directory
from waitress.server import create_server

from chaoslib_edx.console.live import CLOSED, Live

MAX_VIEWERS = 20
NOTE_MAX_CHARS = 2000
NAME_MAX_CHARS = 64
NOTES_PER_MINUTE = 12  # per role's token
KEEPALIVE_S = 15       # a comment line on an idle stream: proxies keep it open
# Each role may do what the one before it may, and more.
ROLES = {"observer": ("note",), "on_call": ("note", "ack"),
         "game_master": ("note", "ack", "hold", "release", "abort")}
CONFIRMED = ("hold", "abort")  # the page asks first; the request must say it did
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store", "X-Frame-Options": "DENY"}


class ApiError(Exception):
    """A request the console answers with STATUS and why (409: the run cannot do it now)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Controls:
    """What the team may do to the run, each the runner's own path; each takes the
    role and the name the person typed, and returns what the page shows."""

    note: Callable[[str, str, str], dict]
    ack: Callable[[str, str], dict]
    hold: Callable[[str, str], dict]
    release: Callable[[str, str], dict]
    abort: Callable[[str, str], dict]


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


class Console:
    """The server, started and stopped with the run."""

    def __init__(self, live: Live, controls: Controls) -> None:
        self.live, self.controls = live, controls
        self.tokens = {role: secrets.token_urlsafe(32) for role in ROLES}
        self._notes: dict[str, deque[float]] = {role: deque() for role in ROLES}
        self._streams = threading.BoundedSemaphore(MAX_VIEWERS)
        self._cpu_lock = threading.Lock()
        self.cpu_s = 0.0  # CPU time the console's own threads spent serving
        self.app = self._app()
        self.host, self.port = "", 0
        self._server: Any = None  # waitress's server, once listening
        self._thread: threading.Thread | None = None

    def start(self, host: str, port: int) -> None:
        """Listen on HOST:PORT (OSError when it cannot) and serve from a thread."""
        server = create_server(self.app, host=host, port=port, threads=MAX_VIEWERS + 4,
                               ident="edx-console", channel_timeout=KEEPALIVE_S * 4)
        self._server, self.host, self.port = server, host, server.effective_port
        self._thread = threading.Thread(target=server.run, name="console", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every stream and the listening socket."""
        self.live.end(self.live.run["status"])
        if self._server is not None:
            self._server.close()
            self._server.task_dispatcher.shutdown(timeout=2)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def urls(self) -> dict[str, str]:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return {role: f"http://{host}:{self.port}/#role={role}&token={token}"
                for role, token in self.tokens.items()}

    # -- the web application -----------------------------------------------------------

    def _role(self) -> tuple[str | None, Response | None]:
        """The role whose token the request carries, or the 401 to answer."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            for role, known in self.tokens.items():
                if hmac.compare_digest(token.encode(), known.encode()):
                    return role, None
        response = _error(401, "a role's token is needed (open the URL the run printed)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="edx-console"'
        return None, response

    def _timed(self, handler: Callable[[], Response]) -> Response:
        started = time.thread_time()
        try:
            return handler()
        finally:
            self._count_cpu(time.thread_time() - started)

    def _count_cpu(self, seconds: float) -> None:
        with self._cpu_lock:
            self.cpu_s += seconds

    def _app(self) -> Flask:
        app = Flask(__name__, static_folder=None)
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
        static = str(Path(__file__).parent / "static")

        @app.after_request
        def _headers(response: Response) -> Response:
            response.headers.update(SECURITY_HEADERS)
            return response

        @app.get("/")
        def page() -> Response:
            return send_from_directory(static, "index.html")

        @app.get("/static/<path:name>")
        def asset(name: str) -> Response:
            return send_from_directory(static, name)

        @app.get("/api/state")
        def state() -> Response:
            def answer() -> Response:
                role, refused = self._role()
                if refused is not None:
                    return refused
                return jsonify({**self.live.snapshot(), "role": role,
                                "can": list(ROLES[role])})
            return self._timed(answer)

        @app.get("/api/events")
        def events() -> Response:
            role, refused = self._role()
            if refused is not None:
                return refused
            if not self._streams.acquire(blocking=False):
                return _error(503, f"the console serves {MAX_VIEWERS} viewers at most")
            viewer = self.live.subscribe()
            response = Response(self._stream(viewer), mimetype="text/event-stream",
                                headers={"X-Accel-Buffering": "no"})

            @response.call_on_close  # also when the stream never started (viewer gone)
            def _gone() -> None:
                self.live.unsubscribe(viewer)
                self._streams.release()
            return response

        @app.post("/api/<action>")
        def act(action: str) -> Response:
            return self._timed(lambda: self._act(action))

        return app

    def _stream(self, viewer: queue.Queue) -> Iterator[bytes]:
        """A viewer's messages until the run ends or the viewer is dropped; a viewer that
        goes away ends it at its next write (the response's close hook then cleans up)."""
        while True:
            try:
                message = viewer.get(timeout=KEEPALIVE_S)
            except queue.Empty:
                message = b": keep-alive\n\n"
            if message is CLOSED:
                return
            started = time.thread_time()
            yield message
            self._count_cpu(time.thread_time() - started)

    def _act(self, action: str) -> Response:
        role, refused = self._role()
        if refused is not None:
            return refused
        if action not in ROLES["game_master"]:
            return _error(404, f"no action '{action}'")
        if action not in ROLES[role]:
            return _error(403, f"the {role.replace('_', ' ')} may not {action}")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        name = body.get("name")
        if not isinstance(name, str) or not 0 < len(name.strip()) <= NAME_MAX_CHARS:
            return _error(400, f"'name': who you are, 1 to {NAME_MAX_CHARS} characters")
        if action in CONFIRMED and body.get("confirm") is not True:
            return _error(400, f"'confirm': {action} must be confirmed (true)")
        if self.live.ended:
            return _error(409, "the run has ended")
        try:
            if action == "note":
                return jsonify(self._note(role, name.strip(), body.get("text")))
            return jsonify(getattr(self.controls, action)(role, name.strip()))
        except ApiError as exc:
            return _error(exc.status, str(exc))

    def _note(self, role: str, name: str, text: object) -> dict:
        if not isinstance(text, str) or not 0 < len(text.strip()) <= NOTE_MAX_CHARS:
            raise ApiError(400, f"'text': the note, 1 to {NOTE_MAX_CHARS} characters")
        recent, now = self._notes[role], time.monotonic()
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= NOTES_PER_MINUTE:
            raise ApiError(429, f"at most {NOTES_PER_MINUTE} notes a minute per role")
        recent.append(now)
        return self.controls.note(role, name, text.strip())

