"""The slowable network path: a real proxy process between a client and a TCP echo
server of the test's own (the upstream's only job is to answer; the sandbox tests run
the path between the real LMS and MariaDB)."""

import json
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chaoslib_edx.ports import free_block
from chaoslib_edx.sandbox import netpath
from chaoslib_edx.waiting import wait_until

pytestmark = pytest.mark.integration


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _Silent(socketserver.BaseRequestHandler):
    """Accepts and never reads: what a stalled database looks like to the path."""

    def handle(self) -> None:
        time.sleep(6)


def _server(handler: type) -> socketserver.ThreadingTCPServer:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _answers(ctl: Path) -> bool:
    try:
        netpath.control(ctl, {})
        return True
    except OSError:
        return False


@pytest.fixture
def path_to(tmp_path: Path):
    """Start the path in front of an upstream server; yield (port, control socket)."""
    started = []

    def start(handler: type, state: Path | None = None) -> tuple[int, Path]:
        upstream = _server(handler)
        port, ctl = free_block(1), tmp_path / f"path-{len(started)}.sock"
        state = state or tmp_path / f"path-{len(started)}.json"
        proc = subprocess.Popen([sys.executable, "-m", "chaoslib_edx.sandbox.netpath",
                                 "--listen", str(port), "--control", str(ctl),
                                 "--upstream", str(upstream.server_address[1]),
                                 "--state", str(state)])
        started.append((proc, upstream))
        # The socket's file exists from its bind, a moment before it listens: wait for an
        # answer (a read: an empty request changes nothing).
        wait_until(lambda: _answers(ctl), timeout=10, what="the path's control socket")
        return port, ctl

    yield start
    for proc, upstream in started:
        proc.kill()
        proc.wait()
        upstream.shutdown()


def _round_trip(conn: socket.socket, payload: bytes = b"ping") -> float:
    began = time.monotonic()
    conn.sendall(payload)
    got = b""
    while len(got) < len(payload):
        got += conn.recv(65536)
    assert got == payload
    return time.monotonic() - began


def test_idle_until_set_then_slows_open_connections(path_to) -> None:
    port, ctl = path_to(_Echo)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        idle = min(_round_trip(conn) for _ in range(5))
        assert idle < 0.05
        assert netpath.control(ctl, {}) == {"latency_ms": 0, "jitter_ms": 0, "owner": None,
                                            "connections": 1}
        reply = netpath.control(ctl, {"latency_ms": 150, "jitter_ms": 0})
        assert reply["latency_ms"] == 150
        slowed = [_round_trip(conn) for _ in range(3)]  # the connection opened before
        assert all(0.15 <= rtt < 0.15 + 0.1 for rtt in slowed), slowed
        netpath.control(ctl, {"latency_ms": 0, "jitter_ms": 0})
        assert _round_trip(conn) < 0.05


def test_a_delay_outlives_a_restart_of_the_path(path_to, tmp_path) -> None:
    """As a network fault outlives the process it slows: a new path on the same state
    file starts with the delay and its owner; a damaged file is no delay."""
    state = tmp_path / "kept.json"
    _, ctl = path_to(_Echo, state)
    owner = {"run": "r1", "label": "game day 'g'"}
    netpath.control(ctl, {"latency_ms": 150, "jitter_ms": 10, "owner": owner})
    port, again = path_to(_Echo, state)  # the same state: what a restart reads
    assert netpath.control(again, {})["latency_ms"] == 150
    assert netpath.control(again, {})["owner"] == owner
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        assert _round_trip(conn) >= 0.14
    netpath.control(again, {"latency_ms": 0, "jitter_ms": 0})
    assert json.loads(state.read_text()) == {"latency_ms": 0, "jitter_ms": 0, "owner": None}
    state.write_text("{not json")
    _, damaged = path_to(_Echo, state)
    assert netpath.control(damaged, {})["latency_ms"] == 0


def test_jitter_keeps_bytes_in_order(path_to) -> None:
    port, ctl = path_to(_Echo)
    netpath.control(ctl, {"latency_ms": 40, "jitter_ms": 40})
    payload = b"".join(b"%06d;" % i for i in range(400))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for i in range(0, len(payload), 70):  # many small sends, each its own delay
            conn.sendall(payload[i:i + 70])
        got = b""
        while len(got) < len(payload):
            got += conn.recv(65536)
    assert got == payload


@pytest.mark.parametrize("request_, message", [
    ({"latency_ms": -1}, "latency_ms must be 0..5000"),
    ({"latency_ms": 5001}, "latency_ms must be 0..5000"),
    ({"latency_ms": 100, "jitter_ms": 101}, "jitter_ms must be 0..latency_ms"),
    ({"delay": 3}, "unexpected keyword"),
])
def test_refused_settings_leave_the_delay(path_to, request_: dict, message: str) -> None:
    _, ctl = path_to(_Echo)
    netpath.control(ctl, {"latency_ms": 20})
    with pytest.raises(ValueError, match=message):
        netpath.control(ctl, request_)
    assert netpath.control(ctl, {})["latency_ms"] == 20


def test_buffers_are_bounded_when_upstream_stalls(path_to) -> None:
    """A sender facing a stalled upstream is stopped by TCP backpressure once the
    path's queue is full, instead of the path holding everything it is sent."""
    port, _ = path_to(_Silent)
    sent, chunk = 0, b"x" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.setblocking(False)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and sent < 256 * 2**20:
            try:
                sent += conn.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
    # Kernel buffers on loopback (both sockets, both sides of the path) plus 1 MiB queue.
    assert sent < 48 * 2**20, f"the path accepted {sent / 2**20:.0f} MiB from a stalled peer"
