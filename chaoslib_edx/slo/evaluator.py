"""Evaluate SLOs over windows of a load run's per-second series.

Burn rate as in the SRE workbook: (bad / total) / error budget; 1.0 spends the budget
exactly over the SLO period. Alerts use two windows (long and short) scaled to the
game day's length instead of the workbook's 1 h / 5 min of a 30-day period.
"""

from dataclasses import asdict, dataclass

from chaoslib_edx.load.recorder import percentiles
from chaoslib_edx.load.series import Series, WindowStats
from chaoslib_edx.slo.catalog import Slo

LONG_TO_SHORT = 12          # the workbook's 1 h : 5 min
DEFAULT_BURN_THRESHOLD = 14.4  # the workbook's page threshold (2% of a 30-day budget in 1 h)


@dataclass(frozen=True)
class SloResult:
    name: str
    start: int
    end: int
    total: int
    good: int
    value: float | None       # availability share, or the latency percentile in ms
    met: bool                 # False with no data: silence is not health
    burn_rate: float | None
    budget_consumed: float | None  # bad events / events the budget allows in the window

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
    return SloResult(slo.name, start, end, total, good, value, met, burn, burn)


def burn_windows(duration_s: float) -> tuple[int, int]:
    """(long, short) alert windows for a run of DURATION_S: a tenth of it and 1/12 of that."""
    long = max(10, int(duration_s / 10))
    return long, max(2, long // LONG_TO_SHORT)


def burn_alert(slo: Slo, series: Series, now: int, long_s: int, short_s: int,
               threshold: float = DEFAULT_BURN_THRESHOLD) -> dict:
    """Multi-window burn-rate alert: fires when both windows burn faster than THRESHOLD."""
    long = evaluate(slo, series, now - long_s, now)
    short = evaluate(slo, series, now - short_s, now)
    firing = all(r.burn_rate is not None and r.burn_rate >= threshold for r in (long, short))
    return {"slo": slo.name, "firing": firing, "threshold": threshold,
            "long": {"window_s": long_s, "burn_rate": long.burn_rate},
            "short": {"window_s": short_s, "burn_rate": short.burn_rate}}
