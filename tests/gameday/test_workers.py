"""Game days whose load comes from workers started outside the runner (as on other hosts
or a Kubernetes Deployment), joining the master at the inventory's load_master address
(loopback in the sandbox): refused when they do not join, and a worker lost mid-run in
the timeline and the report."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.platforms import platform_of
from tests.conftest import compressed_gameday, load_processes, one_paragraph, write_yaml
from tests.sandbox.helpers import eventually

PROFILE = Path(__file__).resolve().parents[2] / "loadprofiles" / "course_launch.py"


def _remote(tmp_path: Path, sandbox, expect: int, join_timeout_s: float) -> Path:
    path = compressed_gameday(tmp_path, sandbox, [("cloudfront-origin-loss", 6)])
    spec = yaml.safe_load(path.read_text())
    spec["load"]["workers"] = {"expect": expect, "join_timeout_s": join_timeout_s}
    spec["load"]["warmup_s"] = 8
    return write_yaml(path, spec)


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "timeline.jsonl").read_text().splitlines()]


def _gameday_process(gameday: Path, run_dir: Path, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run", str(gameday), "--out",
                             str(run_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ,
                                            "EDX_LEDGER": str(tmp_path / "ledger.jsonl")})


def test_workers_that_never_join_refuse_the_game_day_before_any_fault(sandbox, tmp_path):
    gameday = _remote(tmp_path, sandbox, expect=2, join_timeout_s=3)
    run_dir = tmp_path / "run"
    started = time.monotonic()
    proc = _gameday_process(gameday, run_dir, tmp_path)
    _, stderr = proc.communicate(timeout=120)
    message = one_paragraph(stderr)
    assert proc.returncode == 2, stderr[-2000:]
    port = platform_of(str(sandbox.env_file)).load_master()[1]
    assert f"{gameday}: field 'load.workers.join_timeout_s': 0 of 2 workers joined within " \
           f"3 s at 127.0.0.1:{port}; preflight refused, nothing changed." in message
    assert time.monotonic() - started < 60
    events = [e["event"] for e in _events(run_dir)]
    assert "fault_start" not in events and "experiment_start" not in events
    assert json.loads((run_dir / "run.json").read_text())["status"] == "refused"
    assert Ledger(tmp_path / "ledger.jsonl").pending() == [] and \
        not (tmp_path / "ledger.jsonl").exists()  # no fault recorded a rollback
    assert load_processes(run_dir / "metrics.jsonl") == []


def test_a_worker_lost_mid_run_is_in_the_timeline_and_the_report(sandbox, tmp_path):
    gameday = _remote(tmp_path, sandbox, expect=2, join_timeout_s=60)
    run_dir = tmp_path / "run"
    target = platform_of(str(sandbox.env_file))
    host, port = target.load_master()
    proc = _gameday_process(gameday, run_dir, tmp_path)
    env = {**os.environ, **target.load_environment()}
    workers = [subprocess.Popen([sys.executable, "-m", "locust", "-f", str(PROFILE), "--worker",
                                 "--master-host", host, "--master-port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
               for _ in range(2)]
    try:
        joined = eventually(lambda: (run_dir / "timeline.jsonl").exists() and [
            e for e in _events(run_dir) if e["event"] == "worker_joined"][1:], timeout=60)
        assert len(joined) == 1  # the second of two
        time.sleep(4)
        workers[1].send_signal(signal.SIGKILL)
        killed_at = time.time()
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 1), stderr[-3000:]
    (left,) = [e for e in _events(run_dir) if e["event"] == "worker_left"]
    assert left["reason"] == "missing" and left["workers"] == 1
    assert killed_at < left["t"] < killed_at + 10
    assert "left (missing); 1 remain" in stderr  # the progress said so as it happened
    # The report: the loss, and the rate sent before and after it.
    summary = json.loads((run_dir / "summary.json").read_text())
    generators = summary["generators"]
    assert generators["workers"] == "2 remote workers (joining within 60 s)"
    assert generators["joined"] == 2
    assert [e["event"] for e in generators["events"]] == ["left"]
    before, after = generators["segments"]
    assert (before["workers"], after["workers"]) == (2, 1)
    assert before["requests_per_s"] > 0 and after["requests_per_s"] > 0
    html = (run_dir / "index.html").read_text()
    assert f"Worker {left['worker']} left at +" in html and "generator-rates" in html
    assert "left at +" in (run_dir / "summary.md").read_text()
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []


def test_sigterm_while_waiting_for_workers_stops_at_once_with_nothing_changed(sandbox,
                                                                              tmp_path):
    gameday = _remote(tmp_path, sandbox, expect=2, join_timeout_s=120)
    run_dir = tmp_path / "run"
    proc = _gameday_process(gameday, run_dir, tmp_path)
    try:
        eventually(lambda: (run_dir / "timeline.jsonl").exists() and any(
            e["event"] == "load_start" for e in _events(run_dir)), timeout=60)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, stderr[-2000:]
    assert time.monotonic() - stopped_at < 30  # not the 120 s the workers had to join
    assert "fault_start" not in [e["event"] for e in _events(run_dir)]
    assert json.loads((run_dir / "run.json").read_text())["abort_reason"] == \
        "interrupted by SIGTERM"
    assert not (tmp_path / "ledger.jsonl").exists()
    assert load_processes(run_dir / "metrics.jsonl") == []
