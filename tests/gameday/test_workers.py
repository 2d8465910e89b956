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
from chaoslib_edx.load.workers import WORKERS_FILE
from chaoslib_edx.context import environment_context
from tests.conftest import (
    assert_exit_agrees,
    assert_witnessed,
    compressed_gameday,
    load_processes,
    one_paragraph,
    slow_database_experiment,
    write_yaml,
)
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
    port = environment_context(str(sandbox.env_file)).platform.load_master()[1]
    assert f"{gameday}: field 'load.workers.join_timeout_s': 0 of 2 workers joined within " \
           f"3 s at 127.0.0.1:{port}; preflight refused, nothing changed." in message
    assert time.monotonic() - started < 60
    events = [e["event"] for e in _events(run_dir)]
    assert "fault_start" not in events and "experiment_start" not in events
    assert json.loads((run_dir / "run.json").read_text())["status"] == "refused"
    assert Ledger(tmp_path / "ledger.jsonl").pending() == [] and \
        not (tmp_path / "ledger.jsonl").exists()  # no fault recorded a rollback
    assert load_processes(run_dir / "metrics.jsonl") == []


def _seconds_with_requests(run_dir: Path, since: float) -> list[int]:
    """The seconds from SINCE on in which the run's load recorded requests."""
    metrics = run_dir / "metrics.jsonl"
    lines = [json.loads(line) for line in (metrics.read_text().splitlines()
                                          if metrics.exists() else []) if line.endswith("}")]
    return [line["t"] for line in lines if line["t"] >= since and line.get("classes")]


def test_a_worker_lost_mid_run_is_in_the_timeline_and_the_report(sandbox, tmp_path):
    gameday = _remote(tmp_path, sandbox, expect=2, join_timeout_s=60)
    run_dir = tmp_path / "run"
    target = environment_context(str(sandbox.env_file)).platform
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
        # Both workers sent load for 3 s before one dies (a busy machine waits longer).
        eventually(lambda: len(_seconds_with_requests(run_dir, since=joined[0]["t"])) >= 3,
                   timeout=60)
        workers[1].send_signal(signal.SIGKILL)
        killed_at = time.time()
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        if proc.poll() is None:
            proc.kill()
    (left,) = [e for e in _events(run_dir) if e["event"] == "worker_left"]
    assert left["reason"] == "missing" and left["workers"] == 1
    assert killed_at < left["t"] < killed_at + 10
    assert "left (missing); 1 remain" in stderr  # the progress said so as it happened
    # The report: the loss, and the rate sent before and after it.
    summary = json.loads((run_dir / "summary.json").read_text())
    assert_exit_agrees(proc.returncode, summary, stderr)
    assert_witnessed(summary)  # the origin loss stayed live; one worker still sent load
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
        proc.send_signal(signal.SIGTERM)  # the master is waiting for its two workers
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


LOCUSTFILES = Path(__file__).resolve().parents[1] / "load" / "locustfiles"


def _slowed(tmp_path: Path, sandbox, expect: int) -> Path:
    """A game day whose load comes from EXPECT remote workers, with the database 2,000 ms
    slower for 8 s: API latency must miss its SLO."""
    path = compressed_gameday(tmp_path, sandbox, [(slow_database_experiment(
        tmp_path, "slow", 2000, 8), 0)], slos=("api-latency",))
    spec = yaml.safe_load(path.read_text())
    spec["load"]["workers"] = {"expect": expect, "join_timeout_s": 60}
    spec["load"]["warmup_s"] = 6
    return write_yaml(path, spec)


def _worker(locustfile: Path, host: str, port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "locust", "-f", str(locustfile), "--worker",
                             "--master-host", host, "--master-port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def test_a_foreign_worker_is_refused_and_its_requests_count_for_nothing(sandbox, tmp_path):
    """A worker running another locustfile (cheap /heartbeat calls labelled as API
    enrollments, 20 a second) joins first: refused (a timeline event, the report says why),
    it goes home, and API latency is judged on our workers' requests alone: missed under
    the 2,000 ms delay, where the impostor's requests would have made it look met."""
    gameday = _slowed(tmp_path, sandbox, expect=2)
    run_dir = tmp_path / "run"
    target = environment_context(str(sandbox.env_file)).platform
    host, port = target.load_master()
    proc = _gameday_process(gameday, run_dir, tmp_path)
    env = {**os.environ, **target.load_environment()}
    impostor = _worker(LOCUSTFILES / "foreign.py", host, port, env)
    workers = []
    try:
        log = run_dir / WORKERS_FILE  # the master's: the timeline gets it once all joined
        eventually(lambda: log.exists() and '"refused"' in log.read_text(), timeout=60)
        workers = [_worker(PROFILE, host, port, env) for _ in range(2)]
        assert impostor.wait(timeout=30) is not None  # sent home by the master
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        for worker in (impostor, *workers):
            worker.kill()
            worker.wait()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr[-3000:]
    (refused,) = [e for e in _events(run_dir) if e["event"] == "worker_refused"]
    assert "another locustfile" in refused["reason"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["generators"]["joined"] == 2
    assert summary["generators"]["refused"] == [{"worker": refused["worker"],
                                                 "reason": refused["reason"]}]
    (api,) = summary["slos"]
    assert api["met"] is False and api["value"] >= 2000, api
    assert summary["experiments"][0]["slos"]["api-latency"]["during"] >= 2000
    assert f"Worker {refused['worker']} refused: it runs another locustfile" in \
        (run_dir / "index.html").read_text()
    assert "REFUSED" in stderr


def test_a_worker_sending_malformed_reports_is_counted_shown_and_stops_the_run(
        sandbox, tmp_path):
    """A worker that says the right hello, then sends garbage buckets: every one of its
    reports is dropped and counted; past 1% of them, its load is lost: exit 3, and the
    report names the worker and the counts."""
    gameday = _slowed(tmp_path, sandbox, expect=2)
    run_dir = tmp_path / "run"
    target = environment_context(str(sandbox.env_file)).platform
    host, port = target.load_master()
    proc = _gameday_process(gameday, run_dir, tmp_path)
    env = {**os.environ, **target.load_environment()}
    workers = [_worker(PROFILE, host, port, env),
               _worker(LOCUSTFILES / "malformed.py", host, port, env)]
    try:
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, stderr[-3000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["abort_reason"].startswith("load lost at +"), run["abort_reason"]
    assert "malformed reports of" in run["abort_reason"]
    malformed = [e for e in _events(run_dir) if e["event"] == "worker_malformed"]
    assert malformed and malformed[-1]["malformed"] == malformed[-1]["reports"]
    counts = json.loads((run_dir / "summary.json").read_text())["generators"]["malformed"]
    assert counts[malformed[-1]["worker"]]["malformed"] >= 1
    assert "malformed reports of" in (run_dir / "index.html").read_text()
