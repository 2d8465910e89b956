"""The SLO watcher trips an abort condition from the metrics alone (a thread reading a
crafted metrics file; no load, no server)."""

import json
import threading
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.gameday.schema import load_gameday
from chaoslib_edx.gameday.watch import Trip, Watcher
from chaoslib_edx.load.recorder import ClassStats, new_histogram
from tests.conftest import REPO, default_gameday_spec
from tests.sandbox.helpers import eventually

T0 = 1_800_000_000


def _append(path: Path, seconds: range, errors: int) -> None:
    with path.open("a") as out:
        for s in seconds:
            hist = new_histogram()
            hist.record_value(20_000, 100)
            stats = ClassStats(100, errors, errors, hist).to_json()
            out.write(json.dumps({"t": T0 + s, "classes": {"lms": stats}}) + "\n")


def _watcher(tmp_path: Path, abort: list[dict], max_duration_s: int = 300):
    spec = default_gameday_spec()
    spec.update(abort=abort, max_duration_s=max_duration_s, slos=["lms-availability"])
    path = tmp_path / "gameday.yaml"
    path.write_text(yaml.safe_dump(spec))
    trips: list[Trip] = []
    tripped = threading.Event()
    metrics = tmp_path / "metrics.jsonl"
    metrics.touch()

    def on_abort(trip: Trip) -> None:
        trips.append(trip)
        tripped.set()

    watcher = Watcher(load_gameday(path), metrics, {}, on_abort)
    return watcher, metrics, trips, tripped


def test_a_page_rule_needs_both_scaled_windows(tmp_path, monkeypatch) -> None:
    """In a 300 s game day the page rule (1 h / 5 min, 14.4x) scales to 25 s / 2 s. Three
    seconds at 5% errors burn the short window at 50x but the 25-s one at 6x: no abort.
    Ten such seconds burn the long window at 20x: abort, once."""
    monkeypatch.chdir(REPO)
    watcher, metrics, trips, tripped = _watcher(
        tmp_path, [{"slo": "lms-availability", "rule": "page", "min_requests": 20}])
    watcher.start()
    try:
        watcher.arm()
        _append(metrics, range(0, 40), errors=0)
        _append(metrics, range(40, 43), errors=5)
        eventually(lambda: watcher.current.get("lms-availability"))
        assert not tripped.wait(1.0), trips
        _append(metrics, range(43, 50), errors=5)
        assert tripped.wait(5), "the page rule did not trip"
    finally:
        watcher.stop()
    (trip,) = trips
    assert "rule 'page'" in trip.reason and "over 25 s" in trip.reason
    assert "over 2 s" in trip.reason and "limit 14.4x" in trip.reason
    # The watcher reads the ten bad seconds at once: 50 bad of 2,500 requests in the
    # 25-s window is 2% over a 0.1% budget.
    assert (trip.details["total"], trip.details["burn_rate"]) == (2500, pytest.approx(20))


def test_a_damaged_metrics_line_does_not_blind_the_watcher(tmp_path, monkeypatch) -> None:
    """A line that is not metrics (cut, or garbage) is skipped; the seconds after it still
    trip the condition they must."""
    monkeypatch.chdir(REPO)
    watcher, metrics, trips, tripped = _watcher(
        tmp_path, [{"slo": "lms-availability", "window_seconds": 5, "burn_rate_above": 10,
                    "min_requests": 20}])
    watcher.start()
    try:
        watcher.arm()
        _append(metrics, range(0, 20), errors=0)
        with metrics.open("a") as out:
            out.write('{"t": 1800000020, "classes": {"lms": {"n": "many"\n')  # damaged
            out.write('not json at all\n')
        _append(metrics, range(21, 30), errors=50)  # half the requests fail
        assert tripped.wait(5), f"no trip; watcher errors: {watcher.errors}"
    finally:
        watcher.stop()
    assert watcher.is_alive() is False and watcher.series.skipped == [21, 22]
    (trip,) = trips
    assert "lms-availability burned its error budget" in trip.reason


def test_a_watcher_that_cannot_read_aborts_to_fail_safe(tmp_path, monkeypatch) -> None:
    """The metrics file becomes unreadable (here: a directory in its place): the watcher
    keeps running, counts the failures, and past its blind limit aborts the experiment."""
    monkeypatch.chdir(REPO)
    watcher, metrics, trips, tripped = _watcher(
        tmp_path, [{"slo": "lms-availability", "window_seconds": 3, "burn_rate_above": 10}])
    assert watcher.blind_limit_s() == 5  # the floor: its only window is shorter
    watcher.start()
    try:
        watcher.arm()
        _append(metrics, range(0, 5), errors=0)
        eventually(lambda: watcher.current.get("lms-availability"))
        metrics.unlink()
        metrics.mkdir()
        assert tripped.wait(10), "the blind watcher never aborted"
        assert watcher.is_alive()  # it did not die on the way
    finally:
        watcher.stop()
    (trip,) = trips
    assert "could not evaluate the abort conditions" in trip.reason
    assert "fail safe" in trip.reason and watcher.failures >= 5  # kept failing, kept polling
    assert watcher.errors and "IsADirectoryError" in watcher.errors[0]
