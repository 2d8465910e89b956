"""Percentile accuracy: our HDR histograms and Locust's own stats vs exact percentiles.

The same latencies (three seeded distributions shaped like LMS traffic: a lognormal
body, cache hit/miss modes, a Pareto tail) go into an exact sorted list, our per-second
recorder (merged over the run, as the SLO evaluator does) and Locust's StatsEntry, which
rounds response times to 2 significant digits. Prints the max relative error per method.

    .venv/bin/python bench/percentiles.py
"""

import math
import random

from locust.stats import RequestStats, StatsEntry

from chaoslib_edx.load.recorder import ClassStats, new_histogram

PERCENTILES = (50, 95, 99, 99.9)
SAMPLES = 200_000


def distributions(rng: random.Random) -> dict[str, list[float]]:
    return {
        "lognormal body (median 25 ms)": [rng.lognormvariate(math.log(25), 0.6)
                                          for _ in range(SAMPLES)],
        "cache hit 3 ms / miss 140 ms": [rng.gauss(3, 0.5) if rng.random() < 0.8
                                         else rng.gauss(140, 25) for _ in range(SAMPLES)],
        "pareto tail (min 10 ms)": [10 * rng.paretovariate(1.8) for _ in range(SAMPLES)],
    }


def exact(sorted_ms: list[float], percentile: float) -> float:
    """Nearest-rank percentile, the definition HDR histograms approximate."""
    rank = max(1, math.ceil(percentile / 100 * len(sorted_ms)))
    return sorted_ms[rank - 1]


def ours(samples: list[float]) -> ClassStats:
    # One histogram per second of 1,000 requests each, merged: what a window sees.
    total = ClassStats()
    for start in range(0, len(samples), 1000):
        second = ClassStats(hist=new_histogram())
        for ms in samples[start:start + 1000]:
            second.hist.record_value(max(1, int(max(ms, 0.001) * 1000)))
            second.count += 1
        total.merge(second)
    return total


def locust_entry(samples: list[float]) -> StatsEntry:
    entry = StatsEntry(RequestStats(), "bench", "GET")
    for ms in samples:
        entry.log(ms, 0)
    return entry


def main() -> None:
    rng = random.Random(20261124)
    worst = {"ours (HDR, 3 digits)": 0.0, "locust (rounded)": 0.0}
    print(f"{'distribution':<32} {'pct':>6} {'exact ms':>10} {'ours ms':>10} {'locust ms':>10}")
    for name, samples in distributions(rng).items():
        sorted_ms = sorted(samples)
        hist = ours(samples).hist
        entry = locust_entry(samples)
        for p in PERCENTILES:
            truth = exact(sorted_ms, p)
            mine = hist.get_value_at_percentile(p) / 1000
            theirs = entry.get_response_time_percentile(p / 100)
            worst["ours (HDR, 3 digits)"] = max(worst["ours (HDR, 3 digits)"],
                                                abs(mine - truth) / truth)
            worst["locust (rounded)"] = max(worst["locust (rounded)"], abs(theirs - truth) / truth)
            print(f"{name:<32} {p:>6} {truth:>10.3f} {mine:>10.3f} {theirs:>10.0f}")
    print()
    for method, error in worst.items():
        print(f"max relative error, {method:<22} {error * 100:6.3f} %")


if __name__ == "__main__":
    main()
