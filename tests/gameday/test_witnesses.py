"""A verdict needs witnesses, on game days against the real sandbox: a fault undone behind
the runner's back makes its experiment inconclusive (never "held"); load that dies
mid-fault aborts the run ("load lost"), never a "completed" run whose SLOs were met on
frozen figures. (A fault left alone holds: the second game day of test_lease.)"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from chaoslib_edx.sandbox import netpath
from tests.conftest import (
    compressed_gameday,
    load_processes,
    slow_database_experiment,
    write_yaml,
)
from tests.sandbox.helpers import db_query_ms, eventually


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "timeline.jsonl").read_text().splitlines()]


def _start(gameday: Path, run_dir: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run", str(gameday),
                             "--out", str(run_dir)], cwd=cwd, env=os.environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _live(run_dir: Path, experiment: str):
    def check() -> bool:
        timeline = run_dir / "timeline.jsonl"
        return timeline.exists() and any(e["event"] == "fault_start" and
                                         e["experiment"] == experiment
                                         for e in _events(run_dir))
    return check


def test_a_fault_undone_behind_the_runners_back_is_inconclusive_and_lost_load_aborts(
        sandbox, tmp_path) -> None:
    """Two 400 ms slowdowns. The first is reset through the path's control socket while
    live: its verdict is inconclusive, with when it ended (never "held"). During the
    second, Locust is SIGKILLed: the run aborts ("load lost", exit 3) within seconds
    instead of judging its SLOs on frozen figures, and rolls back."""
    first = slow_database_experiment(tmp_path, "reset", 400, 8)
    second = slow_database_experiment(tmp_path, "slow", 400, 30)
    path = compressed_gameday(tmp_path, sandbox, [(first, 0), (second, 13)])
    spec = yaml.safe_load(path.read_text())
    spec["load"]["warmup_s"] = 5
    gameday = write_yaml(path, spec)
    run_dir = tmp_path / "run"
    runner = _start(gameday, run_dir, tmp_path)
    try:
        eventually(lambda: _live(run_dir, "reset")() and db_query_ms(sandbox.layout) >= 300,
                   timeout=60, interval=0.3)
        netpath.control(sandbox.layout.db_path_socket, {"latency_ms": 0, "jitter_ms": 0})
        eventually(lambda: _live(run_dir, "slow")() and db_query_ms(sandbox.layout) >= 300,
                   timeout=60, interval=0.3)
        (locust,) = load_processes(run_dir / "metrics.jsonl")
        locust.send_signal(signal.SIGKILL)
        out, err = runner.communicate(timeout=60)  # well before the fault's 30 s were up
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 3, err[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    verdicts = {e["name"]: e["verdict"] for e in summary["experiments"]}
    assert verdicts["reset"].startswith("inconclusive (fault ended at +"), verdicts
    (ended,) = [e for e in _events(run_dir) if e["event"] == "fault_ended_early"]
    assert ended["experiment"] == "reset" and ended["fault"] == "database_latency"
    assert "reset: inconclusive (fault ended at +" in err and "FAULT ENDED EARLY" in err
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted", run
    assert run["abort_reason"].startswith("load lost at +"), run["abort_reason"]
    assert f"the Locust master (pid {locust.pid}) exited with code -9" in run["abort_reason"]
    assert run["pending_rollbacks"] == [] and db_query_ms(sandbox.layout) < 300
    html = (run_dir / "index.html").read_text()
    assert "load lost at +" in html and "inconclusive (fault ended at +" in html
    assert "ABORTED: load lost at +" in out
