"""SLO probes as Chaos Toolkit runs them (chaoslib's python provider) on a live metrics file."""

import json
import time
from pathlib import Path

import pytest
from chaoslib.activity import run_activity

from chaoslib_edx.load.recorder import ClassStats, new_histogram
from tests.conftest import REPO


def _append(path: Path, seconds_ago: range, server_errors: int) -> None:
    """Per-second metrics; seconds_ago reaches past now, so a probe that reads the clock a
    second later than we did still finds its whole window (it crossed a second once)."""
    now = int(time.time())
    with path.open("a") as out:
        for ago in seconds_ago:
            hist = new_histogram()
            hist.record_value(20_000, 100)
            stats = ClassStats(100, server_errors, server_errors, hist).to_json()
            out.write(json.dumps({"t": now - ago, "classes": {"lms": stats}}) + "\n")


def _probe(func: str, path: Path, **arguments: object) -> object:
    activity = {"type": "probe", "name": func,
                "provider": {"type": "python", "module": "chaoslib_edx.slo.probes",
                             "func": func, "arguments": {"slo": "lms-availability", **arguments}}}
    configuration = {"edx_metrics_file": str(path),
                     "edx_slo_catalog": str(REPO / "gamedays/slos.yaml")}
    return run_activity(activity, configuration, {})


def test_probes_follow_the_live_series(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _append(path, range(40, -5, -1), server_errors=0)
    assert _probe("slo_met", path, window_seconds=20) is True
    status = _probe("slo_status", path, window_seconds=20)
    assert status["total"] == 2000 and status["value"] == 1.0
    assert _probe("burn_rate_ok", path, long_window_seconds=30,
                  short_window_seconds=5) is True
    # The newest seconds carry 10% errors: both burn-rate windows burn hard.
    bad = tmp_path / "bad.jsonl"
    _append(bad, range(40, -5, -1), server_errors=10)
    assert _probe("slo_met", bad, window_seconds=20) is False
    assert _probe("slo_status", bad, window_seconds=20)["burn_rate"] == pytest.approx(100)
    assert _probe("burn_rate_ok", bad, long_window_seconds=30,
                  short_window_seconds=5) is False


def test_no_traffic_fails_the_hypothesis(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("")
    assert _probe("slo_met", path, window_seconds=10) is False
