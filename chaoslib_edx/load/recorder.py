"""Per-second, per-route-class request metrics with exact HDR latency histograms.

Pure Python (no locust import): the Locust plugin feeds it, the master merges worker
buckets with it, and the chaos side reads its JSON Lines with `series`.
"""

import bisect
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from hdrh.histogram import HdrHistogram

# Latency in microseconds, 1 us .. 120 s, 3 significant digits (<= 0.1% error).
HIST_LOWEST_US, HIST_HIGHEST_US, HIST_DIGITS = 1, 120_000_000, 3
# Request classes, by name prefix ("api: enrollment").
ROUTE_CLASSES = ("auth", "lms", "api", "tracking", "video")
# Classes of events that are not requests: "session" is the verdict on each request made
# as a signed-in learner (did the session hold?). Request totals leave them out.
EVENT_CLASSES = ("session",)
# Version 2 lines add, without changing a field of version 1: per class "ihist", latency
# from each request's intended start (open model, see load.openmodel), and per second
# "arrivals": the open model's arrivals due, that waited for a busy pool, that started late
# with a session free (the generator lagged), and that were dropped (see load.openmodel).
FORMAT_VERSION = 2
ARRIVAL_FIELDS = ("due", "waited", "late", "dropped")


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_DIGITS)


def percentiles(hist: HdrHistogram, wanted: Iterable[float]) -> dict[float, int]:
    """hdrh's get_value_at_percentile for several percentiles at once. hdrh walks the
    counts array in Python (~1 ms a query); the cumulative sum here runs in C."""
    cumulative = list(itertools.accumulate(hist.counts[:hist.counts_len]))
    values = {}
    for q in wanted:
        index = bisect.bisect_left(cumulative, hist.get_target_count_at_percentile(q))
        if index >= len(cumulative):
            values[q] = 0
            continue
        value = hist.get_value_from_index(index)
        values[q] = (hist.get_highest_equivalent_value(value) if q
                     else hist.get_lowest_equivalent_value(value))
    return values


@dataclass
class ClassStats:
    """One route class in one second: requests, failures, server errors, latencies (the
    service time, and in the open model the latency from the intended start as well)."""

    count: int = 0
    failures: int = 0       # anything Locust counts as a failure (4xx, 5xx, no answer)
    server_errors: int = 0  # 5xx or no answer: what availability SLOs count as bad
    hist: HdrHistogram = field(default_factory=new_histogram)
    ihist: HdrHistogram | None = None  # from the intended start; open model only

    def merge(self, other: "ClassStats") -> None:
        self.count += other.count
        self.failures += other.failures
        self.server_errors += other.server_errors
        self.hist.add(other.hist)
        if other.ihist is not None:
            if self.ihist is None:
                self.ihist = new_histogram()
            self.ihist.add(other.ihist)

    def to_json(self) -> dict:
        data = {"n": self.count, "fail": self.failures, "5xx": self.server_errors,
                "hist": self.hist.encode().decode("ascii") if self.count else ""}
        if self.ihist is not None and self.ihist.get_total_count():
            data["ihist"] = self.ihist.encode().decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ClassStats":
        def decoded(key: str) -> HdrHistogram | None:
            return HdrHistogram.decode(data[key].encode("ascii")) if data.get(key) else None

        return cls(data["n"], data["fail"], data["5xx"], decoded("hist") or new_histogram(),
                   decoded("ihist"))


def route_class(name: str) -> str:
    """The route class of a request named 'class: route' (Locust's request name)."""
    prefix = name.split(":", 1)[0]
    return prefix if prefix in ROUTE_CLASSES else "other"


_HIGHEST_MS = HIST_HIGHEST_US / 1000


class Recorder:
    """Accumulates requests into per-second buckets and hands out finished ones."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """CLOCK gives the second a request falls into (tests pass a fixed one)."""
        self._clock = clock
        self.buckets: dict[int, dict[str, ClassStats]] = {}
        self.total = 0
        self._classes: dict[str, str] = {}  # request name -> route class (names are few)
        self.arrivals: dict[int, dict[str, int]] = {}  # second -> ARRIVAL_FIELDS counts

    def record(self, name: str, response_time_ms: float, failed: bool, status: int,
               intended_ms: float | None = None) -> None:
        """The per-request hot path: one dict lookup per level and one histogram add (two
        in the open model, where INTENDED_MS is the latency from the action's intended
        start to this response)."""
        second = int(self._clock())
        classes = self.buckets.get(second)
        if classes is None:
            classes = self.buckets[second] = {}
        cls = self._classes.get(name)
        if cls is None:
            cls = self._classes[name] = route_class(name)
        stats = classes.get(cls)
        if stats is None:
            stats = classes[cls] = ClassStats()
        stats.count += 1
        self.total += 1
        if failed:
            stats.failures += 1
            if status == 0 or status >= 500:
                stats.server_errors += 1
        if intended_ms is not None:
            if stats.ihist is None:
                stats.ihist = new_histogram()
            intended = min(max(intended_ms, response_time_ms), _HIGHEST_MS)
            stats.ihist.record_value(int(intended * 1000) or HIST_LOWEST_US)
        if response_time_ms >= _HIGHEST_MS:
            response_time_ms = _HIGHEST_MS
        stats.hist.record_value(int(response_time_ms * 1000) or HIST_LOWEST_US)

    def arrival(self, at: float, what: str) -> None:
        """Count an open-model arrival due at AT (epoch seconds) as WHAT, one of
        ARRIVAL_FIELDS: due, waited for a session, started late, or dropped."""
        counts = self.arrivals.setdefault(int(at), dict.fromkeys(ARRIVAL_FIELDS, 0))
        counts[what] += 1

    def tally(self, cls: str, failed: bool) -> None:
        """Count an event without a latency of its own in CLS (a session kept or lost)."""
        second = int(self._clock())
        stats = self.buckets.setdefault(second, {}).setdefault(cls, ClassStats())
        stats.count += 1
        if failed:
            stats.failures += 1

    def merge(self, buckets: dict[int, dict[str, ClassStats]],
              arrivals: dict[int, dict[str, int]] | None = None) -> None:
        """Add buckets and arrival counts from elsewhere (a worker's report) into ours."""
        for second, counts in (arrivals or {}).items():
            mine_counts = self.arrivals.setdefault(second, dict.fromkeys(ARRIVAL_FIELDS, 0))
            for key in ARRIVAL_FIELDS:
                mine_counts[key] += counts.get(key, 0)
        for second, classes in buckets.items():
            mine = self.buckets.setdefault(second, {})
            for cls, stats in classes.items():
                if cls in mine:
                    mine[cls].merge(stats)
                else:
                    mine[cls] = stats

    def take(self, before: float | None = None) -> dict[int, dict[str, ClassStats]]:
        """Remove and return the buckets of seconds before BEFORE (all when None)."""
        ready = [s for s in self.buckets if before is None or s < before]
        return {s: self.buckets.pop(s) for s in sorted(ready)}

    def take_arrivals(self, before: float | None = None) -> dict[int, dict[str, int]]:
        """Remove and return the arrival counts of seconds before BEFORE (all when None)."""
        ready = [s for s in self.arrivals if before is None or s < before]
        return {s: self.arrivals.pop(s) for s in sorted(ready)}


def dump_buckets(buckets: dict[int, dict[str, ClassStats]]) -> dict:
    """JSON-safe form of buckets, for Locust's worker reports."""
    return {str(s): {c: st.to_json() for c, st in classes.items()}
            for s, classes in buckets.items()}


def load_buckets(data: dict) -> dict[int, dict[str, ClassStats]]:
    return {int(s): {c: ClassStats.from_json(st) for c, st in classes.items()}
            for s, classes in data.items()}


def checked_buckets(data: object) -> dict[int, dict[str, ClassStats]]:
    """A worker's buckets, from the wire: ValueError unless every count is a whole number,
    failures within requests, server errors within failures, and each latency histogram
    holds exactly its class's requests (none for an event class: a report is untrusted
    input)."""
    if not isinstance(data, dict):
        raise ValueError("the buckets are not a mapping")
    buckets = load_buckets(data)
    for second, classes in buckets.items():
        for cls, stats in classes.items():
            numbers = (stats.count, stats.failures, stats.server_errors)
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers) or \
                    not 0 <= stats.server_errors <= stats.failures <= stats.count or \
                    stats.hist.get_total_count() != (0 if cls in EVENT_CLASSES else
                                                     stats.count):
                raise ValueError(f"second {second}, class {cls}: counts {numbers} and a "
                                 f"histogram of {stats.hist.get_total_count()} disagree")
    return buckets


def write_lines(out: IO[str], buckets: dict[int, dict[str, ClassStats]],
                users: dict[int, int], arrivals: dict[int, dict[str, int]] | None = None
                ) -> None:
    """Append one JSON line per second (with its users when sampled, its arrivals in the
    open model); a second may appear again with late data from a worker."""
    arrivals = arrivals or {}
    for second, classes in buckets.items():
        line = {"v": FORMAT_VERSION, "t": second,
                "classes": {c: st.to_json() for c, st in classes.items()}}
        if second in users:
            line["users"] = users[second]
        if second in arrivals:
            line["arrivals"] = arrivals[second]
        out.write(json.dumps(line, separators=(",", ":")) + "\n")
    out.flush()

