"""Whole game days against the real sandbox: real Locust, real faults, real rollbacks.

Each test runs `edx-gameday run` in its own process, as CI would, with its own ledger and
run directory; timelines are compressed (seconds, not minutes).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import psutil
import pytest
import yaml
from junitparser import JUnitXml

from chaoslib_edx import lease
from chaoslib_edx.ledger import Ledger
from tests.conftest import (
    REPO,
    assert_exit_agrees,
    assert_witnessed,
    compressed_gameday,
    held_origin_loss,
    counting_reads,
    load_processes,
    one_paragraph,
    run_cli,
    tripping_gameday,
    write_yaml,
)
from tests.recovery.runs import crashed_run_entry
from tests.sandbox.helpers import eventually

REPORT_FILES = ("run.json", "timeline.jsonl", "metrics.jsonl", "index.html", "summary.json",
                "summary.md", "junit.xml", "postmortem.md")


_gameday = compressed_gameday


def _env(tmp_path: Path) -> dict[str, str]:
    return {"EDX_LEDGER": str(tmp_path / "ledger.jsonl")}


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "timeline.jsonl").read_text().splitlines()]


def _no_locust_left(run_dir: Path) -> None:
    left = load_processes(run_dir / "metrics.jsonl")
    assert left == [], [p.cmdline() for p in left]


class _Dom(HTMLParser):
    """Ids and classes of the elements of the DOM Chromium dumps."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.charts: list[str] = []
        self.svgs = 0
        self.slo_rows = 0
        self._in_slo_table = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if "chart" in (a.get("class") or "").split():
            self.charts.append(a.get("id", "?"))
        if tag == "svg":
            self.svgs += 1
        if tag == "table":
            self._in_slo_table = a.get("id") == "slo-table"
        if tag == "tr" and self._in_slo_table:
            self.slo_rows += 1


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is needed (scripts/install-servers.sh --with-browser)"
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", *args],
        capture_output=True, text=True, timeout=120)


def test_a_compressed_game_day_end_to_end(sandbox, tmp_path) -> None:
    # The pod kill first: the failover's rollback fails a few writes, and the next
    # experiment's steady state (last 10 s) would rightly refuse to start.
    gameday = _gameday(tmp_path, sandbox, [("lms-pod-kill", 0), ("rds-failover", 0)])
    run_dir, junit = tmp_path / "run", tmp_path / "ci-junit.xml"
    result, reads = counting_reads(sandbox.env_file, "chaoslib_edx", "run", str(gameday),
                                   "--out", str(run_dir), "--junit", str(junit),
                                   env=_env(tmp_path), timeout=300)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # which one: below
    # One read of the inventory for the whole run: its two experiments, their faults,
    # rollbacks, ledger and lease all share the run's context.
    assert reads == 1, reads
    assert f"report: {run_dir / 'index.html'}" in result.stdout
    for name in REPORT_FILES:
        assert (run_dir / name).stat().st_size > 0, name
    assert sorted(p.name for p in (run_dir / "journals").iterdir()) == [
        "lms-pod-kill.json", "rds-failover.json"]
    # Progress on the terminal: phases, faults live, SLO values.
    assert "rds-failover: fault live" in result.stderr
    assert "lms-availability" in result.stderr

    # The fault windows come from chaoslib's own events, in order, each closed.
    events = [(e["event"], e.get("experiment")) for e in _events(run_dir)
              if e["event"] in ("fault_start", "fault_end")]
    assert events == [("fault_start", "lms-pod-kill"), ("fault_end", "lms-pod-kill"),
                      ("fault_start", "rds-failover"), ("fault_end", "rds-failover")]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert_exit_agrees(result.returncode, summary, result.stderr)
    assert [e["name"] for e in summary["experiments"]] == ["lms-pod-kill", "rds-failover"]
    assert_witnessed(summary)
    # The failover's effect was measured while it was live: writes failed for a while.
    failover = summary["experiments"][1]["slos"]["lms-availability"]
    assert failover["during"] < failover["before"], failover
    # Recorded in the environment's history at its end, as its report says.
    from chaoslib_edx.context import environment_context

    assert f"history: run {summary['run_id']} added" in result.stderr
    (recorded,) = [run for run in environment_context(str(sandbox.env_file)).platform
                   .history().runs() if run["run_key"] == summary["run_id"]]
    assert recorded["status"] == "completed" and recorded["environment"] == "test-sandbox"
    assert [(e["experiment"], e["verdict"]) for e in recorded["experiments"]] == \
        [(e["name"], e["verdict"]) for e in summary["experiments"]]

    # JUnit: one case per experiment and per SLO; --junit got the same file.
    (suite,) = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    assert suite.name == "game day compressed launch"
    assert {case.name for case in suite} == {"rds-failover", "lms-pod-kill",
                                              "lms-availability", "api-latency", "rollbacks"}
    assert junit.read_bytes() == (run_dir / "junit.xml").read_bytes()
    assert result.returncode == (1 if suite.failures else 0)

    # The HTML in headless Chromium: a real screenshot, and the DOM it built.
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1280,2400",
              (run_dir / "index.html").as_uri(), tmp_path=tmp_path)
    pixels = matplotlib.image.imread(str(shot))[:, :, :3]
    assert pixels.shape[:2] == (2400, 1280)
    non_white = (pixels < 0.95).any(axis=2).mean()
    assert non_white > 0.02, f"screenshot nearly blank ({non_white:.3%} non-white)"
    assert len({tuple(p) for p in pixels[::8, ::8].reshape(-1, 3)}) > 20  # charts' colours
    dump = _chromium("--dump-dom", (run_dir / "index.html").as_uri(), tmp_path=tmp_path)
    dom = _Dom()
    dom.feed(dump.stdout)
    assert "slo-table" in dom.ids and dom.slo_rows == 1 + 2  # header + one per SLO
    assert dom.charts == ["chart-requests", "chart-errors", "chart-latency"]
    assert dom.svgs >= 3
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []
    _no_locust_left(run_dir)
    # The sandbox's database passwords appear in no file of the run directory.
    secrets = [line.split("=", 1)[1] for line in
               sandbox.layout.secrets_file.read_text().splitlines() if "=" in line]
    assert len(secrets) == 3
    for path in run_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not [s for s in secrets if s in text], path


def test_an_abort_condition_trips_within_2s_and_rolls_back(sandbox, tmp_path) -> None:
    gameday = tripping_gameday(tmp_path, sandbox)
    run_dir = tmp_path / "run"
    seen: dict[int, float] = {}  # metrics second -> when its line appeared on disk
    done = threading.Event()

    def tail() -> None:
        offset = 0
        while not done.is_set():
            if (run_dir / "metrics.jsonl").exists():
                with (run_dir / "metrics.jsonl").open() as handle:
                    handle.seek(offset)
                    chunk = handle.read()
                whole = chunk[:chunk.rfind("\n") + 1]
                offset += len(whole.encode())
                for line in whole.splitlines():
                    seen.setdefault(json.loads(line)["t"], time.time())
            time.sleep(0.02)

    watcher = threading.Thread(target=tail, daemon=True)
    watcher.start()
    try:
        result = run_cli("run", str(gameday), "--out", str(run_dir), env=_env(tmp_path),
                         timeout=240)
    finally:
        done.set()
        watcher.join()
    assert result.returncode == 3, result.stderr[-3000:]
    (abort,) = [e for e in _events(run_dir) if e["event"] == "abort"]
    assert "api-latency burned its error budget" in abort["reason"]
    # The product's bound, kept: the watcher reads every 0.25 s, so 2 s leaves 1.75 s for
    # the read, the evaluation and the event's write; a machine that keeps the runner off
    # the CPU longer than that (not 2 cores shared with this suite) fails it rightly.
    assert abort["t"] - seen[abort["second"]] <= 2.0
    # Tripped while the fault was live, and chaoslib's rollbacks restored the origin.
    kinds = [e["event"] for e in _events(run_dir)]
    assert kinds.index("fault_start") < kinds.index("abort") < kinds.index("fault_end")
    journal = json.loads((run_dir / "journals/cloudfront-origin-loss.json").read_text())
    assert journal["status"] == "interrupted"
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["origin-back"]
    assert sandbox.status()["checks"]["cdn"]["origin"] == 200
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted" and run["abort_reason"] == abort["reason"]
    html = (run_dir / "index.html").read_text()
    assert "aborted" in html and "api-latency burned its error budget" in html
    assert "ABORTED: abort condition 0" in result.stdout
    _no_locust_left(run_dir)


def test_a_probe_abort_condition_trips_when_its_tolerance_fails(sandbox, tmp_path) -> None:
    probe = {"provider": {"type": "python", "module": "chaoslib_edx.cdn.probes",
                          "func": "video_origin_serving"}}
    gameday = _gameday(tmp_path, sandbox, [(held_origin_loss(tmp_path), 0)],
                       abort=[{"probe": probe, "tolerance": True, "every_seconds": 1}],
                       warmup_s=5)
    run_dir = tmp_path / "run"
    result = run_cli("run", str(gameday), "--out", str(run_dir), env=_env(tmp_path),
                     timeout=240)
    assert result.returncode == 3, result.stderr[-3000:]
    (abort,) = [e for e in _events(run_dir) if e["event"] == "abort"]
    assert abort["reason"] == ("abort condition 0: probe video_origin_serving returned "
                               "False, outside its tolerance True")
    assert sandbox.status()["checks"]["cdn"]["origin"] == 200
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_fault_rolls_back_and_still_reports(sandbox, tmp_path, sig) -> None:
    """SIGHUP too: a closed terminal or SSH session stops the game day as SIGTERM does."""
    gameday = _gameday(tmp_path, sandbox, [(held_origin_loss(tmp_path), 0)], warmup_s=5)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run", str(gameday),
                             "--out", str(run_dir)], cwd=REPO, env={**os.environ,
                            **_env(tmp_path)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)

    def fault_live() -> bool:
        assert proc.poll() is None, proc.communicate()
        timeline = run_dir / "timeline.jsonl"
        return timeline.exists() and "fault_start" in timeline.read_text() \
            and sandbox.status()["checks"]["cdn"]["origin"] != 200

    eventually(fault_live, timeout=90, interval=0.2)  # the origin is down: the fault is live
    # Without --console the runner opens no port (Locust's own process is the load's).
    assert [c for c in psutil.Process(proc.pid).net_connections("inet")
            if c.status == psutil.CONN_LISTEN] == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sandbox.layout.console_port), timeout=2)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 3, err[-3000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted" and run["abort_reason"] == f"interrupted by {sig.name}"
    assert (run_dir / "index.html").exists() and f"interrupted by {sig.name}" in \
        (run_dir / "index.html").read_text()
    assert sandbox.status()["checks"]["cdn"]["origin"] == 200
    assert Ledger(tmp_path / "ledger.jsonl").pending() == []
    _no_locust_left(run_dir)


def test_a_load_that_cannot_start_still_gives_a_report(sandbox, tmp_path) -> None:
    profile = tmp_path / "broken_profile.py"
    profile.write_text("raise RuntimeError('this locustfile is broken')\n")
    gameday = _gameday(tmp_path, sandbox, [("lms-pod-kill", 0)])
    spec = yaml.safe_load(gameday.read_text())
    spec["load"]["profile"] = str(profile)
    gameday.write_text(yaml.safe_dump(spec))
    run_dir = tmp_path / "run"
    result = run_cli("run", str(gameday), "--out", str(run_dir), env=_env(tmp_path))
    assert result.returncode == 1, result.stderr[-3000:]
    assert "FAILED: the runner failed: the load did not start" in result.stdout
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "failed" and "the load did not start" in run["abort_reason"]
    assert "the load did not start" in (run_dir / "index.html").read_text()
    assert list((run_dir / "journals").glob("*.json")) == []  # no experiment ran


def _fingerprint(sandbox) -> dict:
    """What a fault would change: programs and pids, DB roles, cache, origin."""
    status = sandbox.status()
    checks = status["checks"]
    return {"programs": {n: (p["state"], p["description"].split(",")[0])
                         for n, p in status["programs"].items()},
            "db": checks["db"]["primary"],
            "read_only": {n: s.get("read_only") for n, s in checks["db"]["nodes"].items()},
            "cache": (checks["cache"]["maxmemory"], checks["cache"]["evicted_keys"]),
            "cdn": checks["cdn"]["origin"]}


def test_dry_run_prints_the_plan_and_changes_nothing(sandbox, tmp_path) -> None:
    gameday = _gameday(tmp_path, sandbox, [("rds-failover", 0), ("lms-pod-kill", 30)])
    before = _fingerprint(sandbox)
    result, reads = counting_reads(sandbox.env_file, "chaoslib_edx", "run", str(gameday),
                                   "--dry-run", "--out", str(tmp_path / "run"),
                                   env=_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert reads == 1, reads  # the plan, guardrails, health and ledger share one read
    out = result.stdout
    assert "+    0s  rds-failover" in out and "+   30s  lms-pod-kill" in out
    assert "fail-over-the-database -> chaoslib_edx.rds.actions.failover_database on " \
           "database 'edxapp' via sandbox" in out
    assert "rollback restore-the-database (chaoslib_edx.rds.actions.restore_database)" in out
    assert "kill-a-third-of-the-lms -> chaoslib_edx.pods.actions.kill_lms_replicas" in out
    assert "dry run: nothing was started or changed" in out
    assert re.search(r"health: login as learner1 +ok \(signed in\)", out), out
    assert "warning:" not in out  # the sandbox does not limit logins by default
    assert _fingerprint(sandbox) == before
    assert not (tmp_path / "run").exists() and not (tmp_path / "ledger.jsonl").exists()


def test_dry_run_checks_a_login_and_warns_of_the_login_limit(sandbox, tmp_path) -> None:
    """The inventory says the LMS limits logins and has another password than the
    learners': the dry run says both, and would not start."""
    env = yaml.safe_load(sandbox.env_file.read_text())
    env["sandbox"]["login_rate_limit"] = True
    env["sandbox"]["seed"]["learner_password"] = "not-the-password"
    env_file = write_yaml(tmp_path / "limited.yaml", env)
    gameday = yaml.safe_load(_gameday(tmp_path, sandbox, [("lms-pod-kill", 0)]).read_text())
    gameday["load"]["shape"]["peak_users"] = 40
    path = write_yaml(tmp_path / "busy.yaml", gameday)
    result = run_cli("run", str(path), "--env", str(env_file), "--dry-run", env=_env(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"health: login as learner1 +NOT HEALTHY \(.*HTTP 400", result.stdout)
    assert "not-the-password" not in result.stdout + result.stderr
    assert "warning: about 135 logins in the busiest 5 minutes (40 learners" in result.stdout
    assert "exceed the 100 per 5 minutes" in result.stdout


@pytest.mark.parametrize("flags", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_a_second_run_on_a_locked_environment_is_refused(sandbox, tmp_path, flags) -> None:
    """A dry run refuses what the run would: it probes the lock without taking it."""
    gameday = _gameday(tmp_path, sandbox, [("lms-pod-kill", 0)])
    # The environment's own lease, in the sandbox's state dir: the run's EDX_LEDGER
    # elsewhere does not move it.
    held = lease.begin({"edx_environment": str(sandbox.env_file)}, "game day 'elsewhere'",
                       run_dir=tmp_path / "elsewhere")
    try:
        before = _fingerprint(sandbox)
        result = run_cli("run", str(gameday), "--out", str(tmp_path / "run"), *flags,
                         env=_env(tmp_path))
    finally:
        lease.end(held)
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stderr
    assert "the environment 'test-sandbox' is in use by game day 'elsewhere'" in message
    assert f"pid {os.getpid()}" in message and str(tmp_path / "elsewhere") in message
    assert _fingerprint(sandbox) == before and not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_pending_rollbacks_of_an_earlier_run_block_a_new_one(sandbox, tmp_path, flags) -> None:
    gameday = _gameday(tmp_path, sandbox, [("lms-pod-kill", 0)])
    crashed_run_entry(Ledger(tmp_path / "ledger.jsonl"), tmp_path, "break_video_origin",
                      "chaoslib_edx.cdn.actions:restore_video_origin",
                      {"distribution": "video", "saved": {}})
    result = run_cli("run", str(gameday), "--out", str(tmp_path / "run"), *flags,
                     env=_env(tmp_path))
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stderr
    assert "1 rollbacks of an earlier run are still pending" in message
    assert "edx-gameday recover" in message and not (tmp_path / "run").exists()


@pytest.fixture(autouse=True)
def _sandbox_healthy_after(sandbox):
    """Each test leaves the shared sandbox as it found it."""
    yield
    assert sandbox.status()["state"] == "healthy"
