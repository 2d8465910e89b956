"""A verdict needs witnesses, on game days against the real sandbox: a fault undone behind
the runner's back makes its experiment inconclusive (never "held"); load that dies
mid-fault aborts the run ("load lost"), never a "completed" run whose SLOs were met on
frozen figures; monitoring frozen while a fault is live makes its detection unknown
(never "undetected"), and monitoring that cannot be read at the end is named in every
output. (A fault left alone holds: the second game day of test_lease.)"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from chaoslib_edx.sandbox import netpath
from junitparser import JUnitXml

from tests.conftest import (
    compressed_gameday,
    load_processes,
    program_pids,
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


def _slow_gameday(tmp_path: Path, sandbox, hold_s: int) -> Path:
    """One 2,000 ms database slowdown, live HOLD_S: api-latency is breached at once."""
    path = compressed_gameday(tmp_path, sandbox, [
        (slow_database_experiment(tmp_path, "slow", 2000, hold_s), 0)])
    spec = yaml.safe_load(path.read_text())
    spec["load"]["warmup_s"] = 5
    spec["detection"] = {"auto_ack_after_s": 3}
    return write_yaml(path, spec)


def _has(run_dir: Path, event: str) -> bool:
    timeline = run_dir / "timeline.jsonl"
    return timeline.exists() and any(e["event"] == event for e in _events(run_dir))


def _with_prometheus_frozen(sandbox, tmp_path: Path, hold_s: int, freeze_on: str,
                           thaw_on: str | None) -> tuple[Path, int, str, str]:
    """A slowdown game day whose Prometheus is SIGSTOPped at the timeline's FREEZE_ON
    event, and SIGCONTed at THAW_ON (None: once the runner exited): the run directory,
    exit code, stdout and stderr."""
    prometheus = program_pids(sandbox.layout)["prometheus"]
    run_dir = tmp_path / "run"
    runner = _start(_slow_gameday(tmp_path, sandbox, hold_s), run_dir, tmp_path)
    try:
        eventually(lambda: _has(run_dir, freeze_on), timeout=90, interval=0.2)
        os.kill(prometheus, signal.SIGSTOP)
        if thaw_on is not None:
            eventually(lambda: _has(run_dir, thaw_on), timeout=60, interval=0.2)
            os.kill(prometheus, signal.SIGCONT)
        out, err = runner.communicate(timeout=120)
    finally:
        os.kill(prometheus, signal.SIGCONT)
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    return run_dir, runner.returncode, out, err


def test_prometheus_frozen_across_the_fault_makes_its_detection_unknown(sandbox,
                                                                       tmp_path) -> None:
    """Prometheus SIGSTOPped from the fault going live to the end of its observation, back
    before the report: it scraped nothing and evaluated no alert meanwhile, so the
    detection is "unknown: monitoring blind from +a to +b s (prometheus)" and the servers'
    view "no data", in the console, summary.md/json, JUnit, the postmortem and the HTML;
    never "undetected". (Thawed before the observation ends, it fires the page at once:
    that is a detection, late, and reported as one.)"""
    run_dir, code, out, err = _with_prometheus_frozen(sandbox, tmp_path, 12, "fault_start",
                                                      "load_end")
    assert code == 1, out + err[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    (row,) = summary["detection"]
    assert row["status"].startswith("unknown: monitoring blind from +"), row
    assert row["status"].endswith(" s (prometheus)") and row["alerts"] == []
    (start, end), *_ = row["blind"]
    assert start <= 3 and end >= 9, row["blind"]  # the freeze: from about 0 to about 12 s
    servers = summary["experiments"][0]["slos"]["api-latency"]
    assert servers["server_good_share"] is None
    assert servers["server_no_data"].startswith("no data: monitoring blind from +")
    assert f"detection: slow: {row['status']}" in out and "UNDETECTED" not in out
    for name in ("summary.md", "postmortem.md", "index.html"):
        text = (run_dir / name).read_text()
        assert row["status"] in text and "undetected" not in text.lower(), name
    (suite,) = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    (case,) = [c for c in suite if c.classname == "detection"]
    assert case.result[0].message == row["status"]


def test_prometheus_frozen_at_report_time_is_named_in_every_output(sandbox, tmp_path) -> None:
    """Prometheus SIGSTOPped once the experiment is over, until the runner has exited:
    the detection cannot be read, and the console, summary.md, JUnit and the HTML say so,
    naming the source; the run still ends, its report written, within its read timeout."""
    run_dir, code, out, err = _with_prometheus_frozen(sandbox, tmp_path, 5, "experiment_end",
                                                      None)
    assert code == 1, out + err[-3000:]
    line = "unknown: the alerts and pages could not be read from prometheus: "
    assert f"detection: {line}" in out and "timed out" in out, out
    for name in ("summary.md", "postmortem.md", "index.html"):
        text = (run_dir / name).read_text()
        assert "could not be read from prometheus" in text and "(None)" not in text, name
    (suite,) = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    (case,) = [c for c in suite if c.name == "monitoring"]
    assert case.result[0].message.startswith(line)
