"""Read the metrics JSON Lines a load run appends, from another process, as it grows.

Seconds keep their counts and their histograms still encoded: availability needs only
counts, and a window decodes and merges its histograms when latency is asked for, so an
hour-long run stays a few MiB instead of one decoded histogram per second and class.
Version 1 and 2 lines read alike; in the open model (version 2 "ihist") a window's
latency is measured from each request's intended start, the service time kept beside it.
"""

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from hdrh.histogram import HdrHistogram

from chaoslib_edx.load.recorder import ARRIVAL_FIELDS, EVENT_CLASSES, new_histogram

logger = logging.getLogger("chaostoolkit")


@dataclass
class Cell:
    """One route class in one second, as read."""

    count: int = 0
    failures: int = 0
    server_errors: int = 0
    encoded: list[bytes] = field(default_factory=list)   # service time
    intended: list[bytes] = field(default_factory=list)  # from the intended start (open)


def _merged(encoded: list[bytes]) -> HdrHistogram:
    hist = new_histogram()
    for item in encoded:
        hist.decode_and_add(item)
    return hist


class WindowStats:
    """Requests over a window: counts at once, the merged histograms on first use."""

    def __init__(self) -> None:
        self.count = self.failures = self.server_errors = 0
        self._latency: list[bytes] = []
        self._service: list[bytes] = []
        self._hists: dict[str, HdrHistogram] = {}

    def add(self, cell: Cell) -> None:
        self.count += cell.count
        self.failures += cell.failures
        self.server_errors += cell.server_errors
        self._service.extend(cell.encoded)
        self._latency.extend(cell.intended or cell.encoded)

    @property
    def hist(self) -> HdrHistogram:
        """The latency learners saw: from the intended start where the open model recorded
        it (coordinated omission corrected), else the service time."""
        if "latency" not in self._hists:
            self._hists["latency"] = _merged(self._latency)
        return self._hists["latency"]

    @property
    def service_hist(self) -> HdrHistogram:
        """The service time alone: request sent to response read."""
        if "service" not in self._hists:
            self._hists["service"] = _merged(self._service)
        return self._hists["service"]


@dataclass
class Second:
    t: int
    users: int | None = None
    classes: dict[str, Cell] = field(default_factory=dict)
    arrivals: dict[str, int] | None = None  # open model: ARRIVAL_FIELDS counts


class Series:
    """Per-second buckets merged by second; `refresh()` reads what was appended since."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.seconds: dict[int, Second] = {}
        self.skipped: list[int] = []  # numbers of lines that were not metrics (warned once)
        self._offset = 0
        self._lines = 0

    def refresh(self) -> "Series":
        try:
            with self.path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size < self._offset:
                    # Truncated or replaced (a new run into the same file): start over.
                    self.seconds, self._offset, self._lines, self.skipped = {}, 0, 0, []
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self
        # Only whole lines: the writer may be half-way through the last one.
        end = chunk.rfind(b"\n") + 1
        self._offset += end
        for raw in chunk[:end].splitlines():
            self._lines += 1
            if raw.strip():
                try:
                    self._add(json.loads(raw))
                except (ValueError, KeyError, TypeError, AttributeError, UnicodeError) as exc:
                    # One damaged line must not take the readers (the abort watcher, the
                    # report) down with it: skip it, say where, keep every other second.
                    self.skipped.append(self._lines)
                    logger.warning(f"{self.path}:{self._lines}: skipping a line that is not "
                                   f"per-second metrics ({type(exc).__name__}: {exc})")
        return self

    def _add(self, line: dict) -> None:
        """Merge one line; raises (and changes nothing) when it is not a metrics line."""
        t = line["t"]
        if not isinstance(t, int) or isinstance(t, bool):
            raise TypeError(f"'t' is {t!r}, not a whole second")
        cells = {cls: (int(data["n"]), int(data["fail"]), int(data["5xx"]),
                       data["hist"].encode("ascii") if data["hist"] else None,
                       data["ihist"].encode("ascii") if data.get("ihist") else None)
                 for cls, data in line["classes"].items()}
        arrivals = {key: int(line["arrivals"][key]) for key in ARRIVAL_FIELDS} \
            if "arrivals" in line else None
        second = self.seconds.setdefault(t, Second(t))
        if line.get("users") is not None:
            second.users = line["users"]
        if arrivals is not None:
            second.arrivals = {key: (second.arrivals or {}).get(key, 0) + value
                               for key, value in arrivals.items()}
        for cls, (count, failures, server_errors, encoded, intended) in cells.items():
            cell = second.classes.setdefault(cls, Cell())
            cell.count += count
            cell.failures += failures
            cell.server_errors += server_errors
            if encoded:
                cell.encoded.append(encoded)
            if intended:
                cell.intended.append(intended)

    @property
    def first(self) -> int | None:
        return min(self.seconds) if self.seconds else None

    @property
    def last(self) -> int | None:
        return max(self.seconds) if self.seconds else None

    def window(self, start: float, end: float, classes: tuple[str, ...] | None = None
               ) -> WindowStats:
        """All events of CLASSES (every request class when None) in seconds [start, end)."""
        total = WindowStats()
        if not self.seconds:
            return total
        for t in range(max(int(start), self.first), min(int(end), self.last + 1)):
            second = self.seconds.get(t)
            if second is None:
                continue
            for cls, cell in second.classes.items():
                if cls in classes if classes is not None else cls not in EVENT_CLASSES:
                    total.add(cell)
        return total

    def arrivals(self, start: float, end: float) -> dict[str, int]:
        """Open-model arrival counts (ARRIVAL_FIELDS) due in seconds [start, end)."""
        total = dict.fromkeys(ARRIVAL_FIELDS, 0)
        for t in range(int(start), int(end)):
            second = self.seconds.get(t)
            if second is not None and second.arrivals:
                for key, value in second.arrivals.items():
                    total[key] += value
        return total

    def totals(self) -> dict[str, int]:
        """Request count per route class over the whole run (events are not requests)."""
        counts: dict[str, int] = {}
        for second in self.seconds.values():
            for cls, cell in second.classes.items():
                if cls not in EVENT_CLASSES:
                    counts[cls] = counts.get(cls, 0) + cell.count
        return counts
