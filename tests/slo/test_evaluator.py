"""The SLO evaluator on a crafted series, against hand-computed values."""

import json
from pathlib import Path

import pytest

from chaoslib_edx.load.recorder import ClassStats, new_histogram
from chaoslib_edx.load.series import Series
from chaoslib_edx.slo.catalog import load_catalog
from chaoslib_edx.slo.evaluator import RunningBudget, burn_alert, compression, evaluate, \
    scaled
from tests.conftest import REPO

CATALOG = load_catalog(REPO / "gamedays/slos.yaml")
T0 = 1_800_000_000


def _stats(latencies_ms: list[float], server_errors: int = 0, failures: int = 0) -> dict:
    hist = new_histogram()
    for ms in latencies_ms:
        hist.record_value(int(ms * 1000))
    return ClassStats(len(latencies_ms), failures, server_errors, hist).to_json()


def _series(tmp_path: Path, seconds: dict[int, dict]) -> Series:
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"t": T0 + s, "classes": c}) + "\n"
                            for s, c in seconds.items()))
    return Series(path).refresh()


def test_availability_budget_and_burn_rate(tmp_path: Path) -> None:
    # 10 s of 1,000 LMS requests each; seconds 5-6 have 20 server errors each.
    seconds = {s: {"lms": _stats([20] * 1000, server_errors=20 if s in (5, 6) else 0)}
               for s in range(10)}
    series = _series(tmp_path, seconds)
    slo = CATALOG.get("lms-availability")
    whole = evaluate(slo, series, T0, T0 + 10)
    assert (whole.total, whole.good) == (10_000, 9_960)
    assert whole.value == pytest.approx(0.996)
    assert not whole.met
    # bad share 0.004 over a budget of 0.001
    assert whole.burn_rate == pytest.approx(4.0)
    # 40 bad; at 1,000 requests/s a 30-day period allows 0.1% of 2,592 M to be bad.
    assert whole.budget_consumed == pytest.approx(40 / (0.001 * 1000 * 30 * 86400))
    calm = evaluate(slo, series, T0, T0 + 5)
    assert calm.met and calm.burn_rate == 0
    spike = evaluate(slo, series, T0 + 5, T0 + 7)
    assert spike.burn_rate == pytest.approx(20.0)


def test_latency_p99_and_good_events(tmp_path: Path) -> None:
    # 1,000 API requests: 985 at 100 ms, 15 at 900 ms -> p99 = 900 ms, 1.5% slow.
    series = _series(tmp_path, {0: {"api": _stats([100] * 985 + [900] * 15)}})
    result = evaluate(CATALOG.get("api-latency"), series, T0, T0 + 1)
    assert result.value == pytest.approx(900, rel=0.001)
    assert not result.met
    assert result.good == 985
    assert result.burn_rate == pytest.approx(0.015 / 0.01)
    fast = _series(tmp_path, {0: {"api": _stats([100] * 995 + [900] * 5)}})
    good = evaluate(CATALOG.get("api-latency"), fast, T0, T0 + 1)
    assert good.met and good.value == pytest.approx(100, rel=0.001)


def test_auth_counts_every_login_failure(tmp_path: Path) -> None:
    series = _series(tmp_path, {0: {"auth": _stats([50] * 100, failures=1)}})
    result = evaluate(CATALOG.get("authentication"), series, T0, T0 + 1)
    assert (result.good, result.met) == (99, False)
    assert result.burn_rate == pytest.approx(0.01 / 0.0001)


def test_no_traffic_is_not_met(tmp_path: Path) -> None:
    series = _series(tmp_path, {0: {"video": _stats([5])}})
    result = evaluate(CATALOG.get("lms-availability"), series, T0, T0 + 1)
    assert result.total == 0 and result.met is False and result.value is None


def test_multi_window_burn_alert_needs_both_windows(tmp_path: Path) -> None:
    slo = CATALOG.get("lms-availability")
    # 60 s clean, then 5 s with 5% errors: the short window burns at 50x, the long at ~3.8x
    seconds = {s: {"lms": _stats([10] * 100, server_errors=5 if s >= 60 else 0)}
               for s in range(65)}
    series = _series(tmp_path, seconds)
    alert = burn_alert(slo, series, T0 + 65, long_s=65, short_s=5, threshold=14.4)
    assert alert["short"]["burn_rate"] == pytest.approx(50)
    assert alert["long"]["burn_rate"] == pytest.approx(25 / 6500 / 0.001)
    assert not alert["firing"]
    assert burn_alert(slo, series, T0 + 65, long_s=10, short_s=5, threshold=14.4)["firing"]


def test_alerting_windows_scale_by_one_rule(tmp_path: Path) -> None:
    """The workbook's tiers by default; C = the longest paging window / half the game day:
    the 6 h slow page spans half a 5-minute game day, the 1 h page a sixth of that (the 2 s
    floor holds), the 3-day ticket six times the run, cut to the run (the whole run so far)."""
    slo = CATALOG.get("lms-availability")
    page, slow, ticket = slo.rule("page"), slo.rule("page-slow"), slo.rule("ticket")
    assert (page.long_s, page.short_s, page.burn_rate, page.severity) == \
        (3600, 300, 14.4, "page")
    assert (slow.long_s, slow.short_s, slow.burn_rate, slow.severity) == \
        (21600, 1800, 6.0, "page")
    assert (ticket.long_s, ticket.short_s, ticket.burn_rate, ticket.severity) == \
        (3 * 86400, 21600, 1.0, "ticket")
    assert compression(slo, 300) == pytest.approx(21600 / 150)                # C = 144
    assert scaled(slo, slow, 300) == (150, round(1800 / 144))                # (150, 12)
    assert scaled(slo, page, 300) == (round(3600 / 144), 2)                  # (25, 2)
    assert scaled(slo, ticket, 300) == (300, 150)                # 6 x the run, cut to it
    assert scaled(slo, page, 12 * 3600) == (3600, 300)        # long enough: no compression


def test_catalog_fields_for_budget_and_alerting(tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(json.dumps({"slos": [{
        "name": "x", "title": "x", "objective": 0.99, "budget_period_days": 7,
        "indicator": {"type": "availability", "route_classes": ["lms"]},
        "alerting": [{"name": "fast", "long_s": 600, "short_s": 60, "burn_rate": 10}]}]}))
    slo = load_catalog(path).get("x")
    assert slo.budget_period_s == 7 * 86400 and slo.rule("fast").burn_rate == 10
    assert scaled(slo, slo.rule("fast"), 60) == (30, 3)  # C = 600 / 30 = 20


def test_the_running_budget_agrees_with_the_whole_run_second_by_second(tmp_path: Path) -> None:
    """As the console shows it: at every second, the budget burned so far is what
    evaluate() over the run so far says, for an availability and a latency SLO, late
    metrics of a recent second included."""
    seconds = {s: {"lms": _stats([20] * 90 + [900] * (s % 4), server_errors=s % 3),
                   "api": _stats([100] * 50 + [800] * (s % 5))} for s in range(30)}
    for name in ("lms-availability", "api-latency"):
        slo, running = CATALOG.get(name), RunningBudget(CATALOG.get(name))
        path = tmp_path / f"{name}.jsonl"
        series = Series(path)
        for second in range(30):
            with path.open("a") as metrics:
                metrics.write(json.dumps({"t": T0 + second, "classes": seconds[second]}) + "\n")
                if second >= 3:  # a worker's late report for three seconds ago
                    metrics.write(json.dumps({"t": T0 + second - 3, "classes": {
                        "lms": _stats([20, 30], server_errors=1)}}) + "\n")
            series.refresh()
            whole = evaluate(slo, series, T0, T0 + second + 1)
            burned = running.update(series, T0 + second)
            assert burned == pytest.approx(whole.budget_consumed), (name, second)
        assert burned > 0
