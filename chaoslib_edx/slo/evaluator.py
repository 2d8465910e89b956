"""Evaluate SLOs over windows of a load run's per-second series.

Burn rate as in the SRE workbook: the bad share over the allowed share (1 - objective)
in a window; 1.0 spends the budget exactly over the SLO's budget period. Budget consumed
is the share of the whole period's budget that the window's bad events took, assuming
the window's request rate holds over the period: burn rate x window / period.

Compressed game days: a game day cannot wait 6 h for the slow page's window. One rule
scales every alerting window of the catalog: divide it by C = max(1, L / (D / 2)), where
L is the SLO's longest paging window and D the game day's length, so that the slowest
page spans half the run (2 s at least: metrics are per second). A ticket's longer window
(the workbook's 3 days: 6 times the run) is cut to the run's length: before the run the
load's series has no data, and the monitoring's would judge earlier runs' faults. So a
compressed ticket judges the whole run so far. Burn-rate thresholds are ratios and do not
scale.
"""

from dataclasses import asdict, dataclass

from chaoslib_edx.load.recorder import percentiles
from chaoslib_edx.load.series import Series, WindowStats
from chaoslib_edx.slo.catalog import DEFAULT_ALERTING, AlertRule, Slo

DEFAULT_BURN_THRESHOLD = DEFAULT_ALERTING[0].burn_rate  # the workbook's page threshold
MIN_WINDOW_S = 2


@dataclass(frozen=True)
class SloResult:
    name: str
    start: int
    end: int
    total: int
    good: int
    value: float | None       # availability share, or the latency percentile in ms
    met: bool                 # False with no data: silence is not health
    burn_rate: float | None        # bad share / allowed share in the window
    budget_consumed: float | None  # share of the budget period's error budget

    def to_dict(self) -> dict:
        return asdict(self)


def good_events(slo: Slo, stats: WindowStats) -> int:
    indicator = slo.indicator
    if indicator.type == "latency":
        # Requests within the threshold: the counts up to the threshold's bucket, summed
        # in one slice (hdrh's recorded-value iterator is ~1000x slower in Python).
        hist = stats.hist
        index = hist.get_counts_array_index(int(indicator.threshold_ms * 1000))
        return sum(hist.counts[:index + 1])
    bad = stats.server_errors if indicator.bad == "server_errors" else stats.failures
    return stats.count - bad


def evaluate(slo: Slo, series: Series, start: int, end: int) -> SloResult:
    """The SLO over seconds [start, end) of SERIES."""
    stats = series.window(start, end, slo.indicator.route_classes)
    total = stats.count
    if total == 0:
        return SloResult(slo.name, start, end, 0, 0, None, False, None, None)
    good = good_events(slo, stats)
    bad_share = (total - good) / total
    burn = bad_share / slo.error_budget
    if slo.indicator.type == "latency":
        q = slo.indicator.percentile
        value = percentiles(stats.hist, [q])[q] / 1000
        met = value <= slo.indicator.threshold_ms
    else:
        value = good / total
        met = value >= slo.objective
    return SloResult(slo.name, start, end, total, good, value, met, burn,
                     burn * (end - start) / slo.budget_period_s)


class RunningBudget:
    """The share of SLO's budget a run has burned so far, as evaluate() over the whole run
    would say, kept up second by second: a latency SLO over the whole run would merge
    every second's histogram again each time."""

    RESTATE_S = 5  # a second's metrics may still grow this long (workers report late)

    def __init__(self, slo: Slo) -> None:
        self.slo = slo
        self._seconds: dict[int, tuple[int, int]] = {}  # second -> (good, total)

    def update(self, series: Series, last: int) -> float | None:
        """The budget burned over seconds [series.first, LAST]; None without requests."""
        if series.first is None:
            return None
        for t in range(max(series.first, last - self.RESTATE_S), last + 1):
            result = evaluate(self.slo, series, t, t + 1)
            self._seconds[t] = (result.good, result.total)
        total = sum(count for _, count in self._seconds.values())
        if not total:
            return None
        good = sum(count for count, _ in self._seconds.values())
        burn = (total - good) / total / self.slo.error_budget
        return burn * (last + 1 - series.first) / self.slo.budget_period_s


def compression(slo: Slo, duration_s: float) -> float:
    """C of the module docstring: how much a game day of DURATION_S compresses time."""
    paging = [rule for rule in slo.alerting if rule.severity == "page"] or slo.alerting
    longest = max(rule.long_s for rule in paging)
    return max(1.0, longest / (duration_s / 2))


def scaled(slo: Slo, rule: AlertRule, duration_s: float,
           min_window_s: int = MIN_WINDOW_S) -> tuple[int, int]:
    """RULE's (long, short) windows in a game day of DURATION_S seconds, none shorter than
    MIN_WINDOW_S (what the metrics' resolution allows)."""
    factor = compression(slo, duration_s)
    long = round(rule.long_s / factor)
    if factor > 1:
        long = min(long, round(duration_s))  # never longer than the run (module docstring)
    long = max(min_window_s + 1, long)
    return long, min(long - 1, max(min_window_s, round(rule.short_s / factor)))


def burn_alert(slo: Slo, series: Series, now: int, long_s: int, short_s: int,
               threshold: float = DEFAULT_BURN_THRESHOLD) -> dict:
    """Multi-window burn-rate alert: fires when both windows burn faster than THRESHOLD."""
    long = evaluate(slo, series, now - long_s, now)
    short = evaluate(slo, series, now - short_s, now)
    firing = all(r.burn_rate is not None and r.burn_rate >= threshold for r in (long, short))
    return {"slo": slo.name, "firing": firing, "threshold": threshold,
            "long": {"window_s": long_s, "burn_rate": long.burn_rate},
            "short": {"window_s": short_s, "burn_rate": short.burn_rate}}
