"""The load profiles under real Locust (own processes, bounded) against the real sandbox."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaoslib_edx.load import launcher
from chaoslib_edx.load.series import Series
from tests.conftest import REPO
from tests.sandbox.helpers import eventually

COURSE_LAUNCH = REPO / "loadprofiles/course_launch.py"
ENROLLMENT_PEAK = REPO / "loadprofiles/enrollment_peak.py"
def _env(sandbox) -> dict[str, str]:
    return {"EDX_CDN_URL": sandbox.layout.cdn_url, "EDX_LEARNERS": "200", "EDX_COURSES": "4"}


def _locust_total(stats_file: Path) -> int:
    """Locust's own final count: --json-file is written after the runner stops (its _stats.csv
    is rewritten once a second and can miss the last requests)."""
    return sum(entry["num_requests"] for entry in json.loads(stats_file.read_text()))


@pytest.mark.plain
def test_plain_locust_command_runs_unchanged_with_the_configured_mix(sandbox, tmp_path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(COURSE_LAUNCH), "--headless", "-u", "20",
         "-r", "10", "-t", "20s", "--host", sandbox.layout.lb_url, "--edx-metrics", str(metrics),
         "--json-file", str(tmp_path / "locust")],
        capture_output=True, text=True, timeout=90, env={**os.environ, **_env(sandbox)})
    assert result.returncode == 0, result.stderr[-2000:]
    totals = Series(metrics).refresh().totals()
    assert sum(totals.values()) == _locust_total(tmp_path / "locust.json")
    assert totals["auth"] >= 40  # every learner fetched a CSRF token and signed in
    assert {"lms", "api", "tracking", "video"} <= set(totals)  # the action mix is in
    # test_openedx_mix.py


def test_launch_shape_user_counts_at_ticks(sandbox, tmp_path) -> None:
    # Platform time = wall time: 4 s at 2 users, spike to 12 over 2 s, 6 s plateau, 4 s decay.
    env = {**_env(sandbox), "EDX_BASELINE_USERS": "2", "EDX_PEAK_USERS": "12",
           "EDX_BASELINE_S": "4", "EDX_SPIKE_S": "2", "EDX_PLATEAU_S": "6", "EDX_DECAY_S": "4",
           "EDX_TIME_SCALE": "1"}
    run = launcher.start(COURSE_LAUNCH, sandbox.layout.lb_url, 40, tmp_path, env=env)
    assert run.wait() == 0, run.logs[0].read_text()[-2000:]
    series = Series(run.metrics_file).refresh()
    users = {t - series.first: s.users for t, s in sorted(series.seconds.items())
             if s.users is not None}
    assert users[1] == 2 and users[2] == 2
    assert all(users[t] == 12 for t in (8, 9, 10) if t in users), users
    assert max(users.values()) == 12
    # The shape ends the run after 16 s, long before -t's 40 s.
    assert series.last - series.first <= 19, users


SIGN_IN_BURST = 2 * 8  # two learners' sign-ins: eight requests each, sent at once


def test_replay_reproduces_the_scaled_curve(sandbox, tmp_path) -> None:
    """Per stretch of one rate in the CSV, the measured requests/s are within 15% of rate x
    scale, give or take one sign-in burst.

    The first 3 s of each stretch are left out: users are spawned or stopped there.
    Learners are paced by requests, and an action may send several at once (a unit view
    three, a new learner's sign-in eight, paced after), so a 7 s count is bursty: CI saw
    -11%, +17% and +20% (18 of 15/s, the first stretch, where every learner signs in) in
    full runs. So each stretch may also be off by two sign-ins' requests (16) over its
    counted seconds: the pacing's quantum, not a drift of the rate. The last rate holds two
    buckets (17 s counted), which halves that. Pacing by actions instead would overshoot
    by more than 15% (the mix averages about 1.2 requests an action, plus the sign-ins)."""
    curve = tmp_path / "curve.csv"
    curve.write_text("offset_s,rps\n0,10\n10,30\n20,16\n30,16\n")
    run = launcher.start(ENROLLMENT_PEAK, sandbox.layout.lb_url, 60, tmp_path, env=_env(sandbox),
                         extra_args=("--curve", str(curve), "--scale", "1.5", "--time-scale", "1"))
    assert run.wait() == 0, run.logs[0].read_text()[-2000:]
    series = Series(run.metrics_file).refresh()
    start = series.first
    for offset, end, rate in ((0, 10, 10), (10, 20, 30), (20, 40, 16)):
        begin = start + offset + 3
        counted = start + end - begin
        measured = series.window(begin, start + end).count / counted
        slack = 0.15 * rate * 1.5 + SIGN_IN_BURST / counted
        assert abs(measured - rate * 1.5) <= slack, (offset, measured, rate * 1.5, slack)


def test_distributed_master_merges_every_worker_request(sandbox, tmp_path) -> None:
    run = launcher.start(COURSE_LAUNCH, sandbox.layout.lb_url, 15, tmp_path, users=30,
                         spawn_rate=30, workers=2, env=_env(sandbox))
    assert run.wait() == 0, run.logs[0].read_text()[-2000:]
    master_log = run.logs[0].read_text()
    assert "Waiting for workers to be ready, 2 of 2 connected" in master_log or \
        "2 workers connected" in master_log, master_log[-2000:]
    merged = sum(Series(run.metrics_file).refresh().totals().values())
    assert merged > 100
    assert merged == _locust_total(run.stats_file)
    for log in run.logs[1:]:
        assert "Traceback" not in log.read_text()


def test_stopping_a_distributed_run_ends_every_worker_cleanly(sandbox, tmp_path) -> None:
    """Stopped early, as a game day stops its load: the master tells its workers to quit;
    none prints a KeyboardInterrupt traceback, none is left."""
    run = launcher.start(COURSE_LAUNCH, sandbox.layout.lb_url, 60, tmp_path, users=10,
                         spawn_rate=10, workers=2, env=_env(sandbox))
    series = Series(run.metrics_file)
    eventually(lambda: len(series.refresh().seconds) >= 3, timeout=30)
    run.stop()
    assert all(proc.poll() is not None for proc in run.processes)
    for log in run.logs[1:]:
        text = log.read_text()
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, text[-2000:]


def test_launcher_refuses_hosts_off_loopback(tmp_path) -> None:
    with pytest.raises(ValueError, match="127.0.0.1 only"):
        launcher.start(COURSE_LAUNCH, "http://10.0.0.5", 5, tmp_path)


LONG_SHAPE = {"EDX_BASELINE_USERS": "3", "EDX_PEAK_USERS": "3", "EDX_BASELINE_S": "600",
              "EDX_TIME_SCALE": "1"}


def test_run_time_bounds_a_shape_run(sandbox, tmp_path) -> None:
    # Locust arms -t only after a headless shape ends; the shape checks it itself.
    began = time.monotonic()
    run = launcher.start(COURSE_LAUNCH, sandbox.layout.lb_url, 5, tmp_path,
                         env={**_env(sandbox), **LONG_SHAPE})
    assert run.wait() == 0, run.logs[0].read_text()[-2000:]
    assert time.monotonic() - began < 15


def test_stopping_a_shape_run_keeps_its_last_seconds(sandbox, tmp_path) -> None:
    """Started with SIGINT ignored, as in a shell's background job (`nohup ... &`): the
    load still quits cleanly on the SIGINT that stops it."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run = launcher.start(COURSE_LAUNCH, sandbox.layout.lb_url, 120, tmp_path,
                             env={**_env(sandbox), **LONG_SHAPE})
    finally:
        signal.signal(signal.SIGINT, before)
    series = Series(run.metrics_file)
    eventually(lambda: len(series.refresh().seconds) >= 3, timeout=30)  # load is flowing
    run.stop()
    assert run.master.returncode == 0, run.logs[0].read_text()[-2000:]
    merged = sum(Series(run.metrics_file).refresh().totals().values())
    assert merged > 5 and merged == _locust_total(run.stats_file)


@pytest.mark.integration
@pytest.mark.plain
def test_plain_locust_refuses_a_bad_learners_file_before_sending(tmp_path) -> None:
    """A listener of the test's own counts connections: a refused file sends nothing."""
    learners = tmp_path / "learners.csv"
    learners.write_text("username,password\nana\n")
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.2)
        port = server.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(COURSE_LAUNCH), "--headless", "-u", "2",
             "-r", "2", "-t", "5s", "--host", f"http://127.0.0.1:{port}",
             "--edx-learners", str(learners)],
            capture_output=True, text=True, timeout=60, env=os.environ.copy())
        with pytest.raises(TimeoutError):
            server.accept()
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{learners}: field 'line 2': needs a username and a password" in \
        " ".join(result.stderr.split())
