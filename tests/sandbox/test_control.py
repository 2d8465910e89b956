"""Lifecycle of a whole sandbox: cold up, idempotent up, down leaves no process."""

import time
from pathlib import Path

import psutil
import pytest

from chaoslib_edx.sandbox.control import sandbox_processes
from tests.conftest import start_sandbox

pytestmark = pytest.mark.sandbox


def test_up_twice_then_down_leaves_no_process(tmp_path: Path) -> None:
    began = time.monotonic()
    box = start_sandbox(tmp_path)
    cold = time.monotonic() - began
    try:
        pids = {p.pid for p in sandbox_processes(box.layout)}
        # supervisord, 2 MariaDB, Redis, origin, nginx master + worker, 3 LMS replicas
        assert len(pids) >= 10, pids
        programs = {n: p["pid"] for n, p in box.status()["programs"].items()}
        began = time.monotonic()
        again = box.cli("sandbox", "up")
        warm = time.monotonic() - began
        assert again.returncode == 0
        assert "already up" in again.stdout
        assert {n: p["pid"] for n, p in box.status()["programs"].items()} == programs
        assert {p.pid for p in sandbox_processes(box.layout)} == pids
        rss = sum(p.memory_info().rss for p in sandbox_processes(box.layout))
        print(f"\nsandbox up: cold {cold:.1f}s, warm (no-op) {warm:.2f}s, "
              f"RSS {rss / 2**20:.0f} MiB over {len(pids)} processes")
    finally:
        down = box.cli("sandbox", "down")
    assert down.returncode == 0, down.stderr
    assert not [pid for pid in pids if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert sandbox_processes(box.layout) == []
    status = box.cli("sandbox", "status")
    assert status.returncode == 1 and "sandbox: down" in status.stdout
    # Data survives down: the next up reuses it (no re-seed) and is healthy again.
    try:
        restarted = box.cli("sandbox", "up")
        assert restarted.returncode == 0 and box.status()["state"] == "healthy"
    finally:
        box.cli("sandbox", "down")
    assert sandbox_processes(box.layout) == []
