"""Crash safety of game days against the real sandbox: load that dies with its runner,
recover from any directory, repeated signals, a signal while the report renders, and a
report for every end (one holder per environment wherever the runner runs: test_lease)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.sandbox.supervisor import Supervisor
from tests.conftest import (
    REPO,
    compressed_gameday,
    held_origin_loss,
    load_processes,
    tripping_gameday,
)
from tests.sandbox.helpers import eventually

LOAD_GONE_S = 5  # the promise: no load process of a dead runner after this


def _slow_failover(tmp_path: Path) -> str:
    """The shipped failover with a minute of downtime and no hypothesis: a fault that is
    still live when the test strikes."""
    experiment = yaml.safe_load((REPO / "experiments/rds-failover.yaml").read_text())
    experiment["method"][0]["provider"]["arguments"]["downtime_seconds"] = 60
    experiment.pop("steady-state-hypothesis")
    path = tmp_path / "slow-failover.yaml"
    path.write_text(yaml.safe_dump(experiment))
    return str(path)


def _start(gameday: Path, run_dir: Path, cwd: Path, **env: str) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run", str(gameday),
                             "--out", str(run_dir)], cwd=cwd, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _fault_live(proc: subprocess.Popen, run_dir: Path, check=lambda: True):
    def live() -> bool:
        assert proc.poll() is None, proc.communicate()
        timeline = run_dir / "timeline.jsonl"
        return timeline.exists() and "fault_start" in timeline.read_text() and check()
    return live


def _healthy_on_db_a(sandbox) -> None:
    status = sandbox.status()
    assert status["state"] == "healthy", (status["programs"], status["checks"])
    assert status["checks"]["db"]["primary"] == "db-a"


def test_sigkill_mid_fault_then_recover_from_root(sandbox, tmp_path) -> None:
    """The runner dies without a word: its load goes within seconds, and `recover --env`
    run from / (no EDX_LEDGER: the environment's own ledger) rolls the fault back and
    marks the run crashed in its report."""
    gameday = compressed_gameday(tmp_path, sandbox, [(_slow_failover(tmp_path), 0)])
    run_dir = tmp_path / "a" / "run"
    runner = _start(gameday, run_dir, tmp_path / "a")
    sup = Supervisor(sandbox.layout)
    try:
        eventually(_fault_live(runner, run_dir,
                               lambda: sup.process("db-a")["statename"] == "STOPPED"),
                   timeout=90, interval=0.2)
        assert load_processes(run_dir / "metrics.jsonl")  # the load was running
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.communicate()
    eventually(lambda: not load_processes(run_dir / "metrics.jsonl"), timeout=LOAD_GONE_S)
    state = sandbox.layout.root / "gameday"
    assert len(Ledger(state / "ledger.jsonl").pending()) == 1

    result = subprocess.run([sys.executable, "-m", "chaoslib_edx", "recover", "--env",
                             str(sandbox.env_file)], cwd="/", capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore_database" in result.stdout and f"{run_dir} had crashed" in result.stdout
    assert Ledger(state / "ledger.jsonl").pending() == []
    _healthy_on_db_a(sandbox)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "crashed"
    assert "crashed" in (run_dir / "index.html").read_text()
    # The history records it as crashed, and its report compares it (or says why not).
    assert f"history: run {run['run_id']} added" in result.stderr
    assert json.loads((run_dir / "summary.json").read_text())["comparison"] is not None
    from chaoslib_edx.context import environment_context

    (kept,) = [r for r in environment_context(str(sandbox.env_file)).platform.history().runs()
               if r["run_key"] == run["run_id"]]
    assert kept["status"] == "crashed"


def test_sigkill_of_a_plain_chaos_run_takes_its_load_along(sandbox, tmp_path) -> None:
    """The load control's Locust dies with `chaos run` too."""
    metrics = tmp_path / "metrics.jsonl"
    env = {**os.environ, "EDX_ENVIRONMENT": str(sandbox.env_file),
           "EDX_LEDGER": str(tmp_path / "ledger.jsonl"), "EDX_METRICS_FILE": str(metrics)}
    chaos = subprocess.Popen([sys.executable, "-m", "chaostoolkit", "--no-version-check",
                              "--log-file", str(tmp_path / "chaos.log"), "run",
                              "--journal-path", str(tmp_path / "journal.json"),
                              str(REPO / "experiments/lms-pod-kill.yaml")],
                             cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        eventually(lambda: metrics.exists() and metrics.read_text().count("\n") >= 2,
                   timeout=60)
        assert load_processes(metrics)
    finally:
        chaos.send_signal(signal.SIGKILL)
        chaos.wait()
    eventually(lambda: not load_processes(metrics), timeout=LOAD_GONE_S)
    subprocess.run([sys.executable, "-m", "chaoslib_edx", "recover", "--env",
                    str(sandbox.env_file), "--ledger", str(tmp_path / "ledger.jsonl")],
                   cwd=tmp_path, capture_output=True, timeout=120, check=True)
    eventually(lambda: sandbox.status()["state"] == "healthy", timeout=60)


def _origin_lost(sandbox) -> bool:
    return sandbox.status()["checks"]["cdn"]["origin"] != 200


def test_repeated_sigint_mid_fault_still_rolls_back_and_reports(sandbox, tmp_path) -> None:
    gameday = compressed_gameday(tmp_path, sandbox, [(held_origin_loss(tmp_path), 0)],
                                 warmup_s=5)
    run_dir = tmp_path / "run"
    runner = _start(gameday, run_dir, tmp_path, EDX_LEDGER=str(tmp_path / "ledger.jsonl"))
    eventually(_fault_live(runner, run_dir, lambda: _origin_lost(sandbox)), timeout=90,
               interval=0.2)
    for _ in range(3):  # an impatient operator
        runner.send_signal(signal.SIGINT)
        eventually(lambda: "SIGINT" in (run_dir / "timeline.jsonl").read_text(), timeout=10)
    out, err = runner.communicate(timeout=180)
    assert runner.returncode == 3, err[-3000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted" and "SIGINT" in run["abort_reason"]
    assert (run_dir / "index.html").exists() and run["pending_rollbacks"] == []
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []
    assert not _origin_lost(sandbox)


def test_sigterm_while_the_report_renders_ends_aborted_with_a_report(sandbox, tmp_path) -> None:
    """The run is over and its report renders when SIGTERM comes: exit 3, and the report
    (re-rendered) says aborted instead of leaving none."""
    gameday = compressed_gameday(tmp_path, sandbox, [("lms-pod-kill", 0)], warmup_s=5)
    run_dir = tmp_path / "run"
    runner = _start(gameday, run_dir, tmp_path, EDX_LEDGER=str(tmp_path / "ledger.jsonl"))

    def rendering() -> bool:
        assert runner.poll() is None, runner.communicate()
        run_json = run_dir / "run.json"
        return run_json.exists() and json.loads(run_json.read_text())["status"] != "running"

    eventually(rendering, timeout=150, interval=0.02)  # its end is written: the report is next
    runner.send_signal(signal.SIGTERM)
    out, err = runner.communicate(timeout=120)
    assert runner.returncode == 3, err[-3000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted" and run["abort_reason"] == "interrupted by SIGTERM"
    assert "interrupted by SIGTERM" in (run_dir / "index.html").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "aborted"


def test_a_damaged_metrics_line_mid_run_still_lets_the_abort_trip(sandbox, tmp_path) -> None:
    """A garbage line lands in metrics.jsonl during the warm-up (a disk hiccup, a stray
    writer): the watcher skips it, the abort condition that must trip (an impossible p99)
    still trips once the fault is live, exit 3 and a report."""
    gameday = tripping_gameday(tmp_path, sandbox)
    run_dir = tmp_path / "run"
    runner = _start(gameday, run_dir, tmp_path, EDX_LEDGER=str(tmp_path / "ledger.jsonl"))
    metrics = run_dir / "metrics.jsonl"
    eventually(lambda: metrics.exists() and metrics.read_text().count("\n") >= 3, timeout=60)
    with metrics.open("a") as out:  # O_APPEND: lands between Locust's whole lines
        out.write('{"t": "soon", "classes": 7}\n')
    out, err = runner.communicate(timeout=240)
    assert runner.returncode == 3, err[-3000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted" and "api-latency burned" in run["abort_reason"]
    assert "skipping a line that is not per-second metrics" in \
        (run_dir / "chaostoolkit.log").read_text()
    assert (run_dir / "index.html").exists()
    assert sandbox.status()["checks"]["cdn"]["origin"] == 200


def test_max_duration_is_a_hard_bound_even_mid_experiment(sandbox, tmp_path) -> None:
    """A fault held 60 s in a 30-s game day: interrupted when the bound is reached, rolled
    back, exit 3; the load's own -t ends it at the same bound."""
    gameday = compressed_gameday(tmp_path, sandbox, [(held_origin_loss(tmp_path), 0)],
                                 warmup_s=5)
    spec = yaml.safe_load(gameday.read_text())
    gameday.write_text(yaml.safe_dump({**spec, "max_duration_s": 30}))
    run_dir = tmp_path / "run"
    runner = _start(gameday, run_dir, tmp_path, EDX_LEDGER=str(tmp_path / "ledger.jsonl"))
    out, err = runner.communicate(timeout=180)
    assert runner.returncode == 3, err[-3000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["abort_reason"] == "the game day reached its max_duration_s (30 s)"
    events = [json.loads(line) for line in (run_dir / "timeline.jsonl").read_text().splitlines()]
    start = next(e["t"] for e in events if e["event"] == "load_start")
    abort = next(e["t"] for e in events if e["event"] == "abort")
    assert 29 <= abort - start <= 33  # the load starts after the preflight, inside the bound
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []
    assert not _origin_lost(sandbox)
