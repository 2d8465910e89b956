"""Read the metrics JSON Lines a load run appends, from another process, as it grows."""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from chaoslib_edx.load.recorder import ClassStats


@dataclass
class Second:
    t: int
    users: int | None = None
    classes: dict[str, ClassStats] = field(default_factory=dict)


class Series:
    """Per-second buckets merged by second; `refresh()` reads what was appended since."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.seconds: dict[int, Second] = {}
        self._offset = 0

    def refresh(self) -> "Series":
        try:
            with self.path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size < self._offset:
                    # Truncated or replaced (a new run into the same file): start over.
                    self.seconds, self._offset = {}, 0
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self
        # Only whole lines: the writer may be half-way through the last one.
        end = chunk.rfind(b"\n") + 1
        self._offset += end
        for raw in chunk[:end].splitlines():
            if raw.strip():
                self._add(json.loads(raw))
        return self

    def _add(self, line: dict) -> None:
        second = self.seconds.setdefault(line["t"], Second(line["t"]))
        if line.get("users") is not None:
            second.users = line["users"]
        for cls, data in line["classes"].items():
            stats = ClassStats.from_json(data)
            if cls in second.classes:
                second.classes[cls].merge(stats)
            else:
                second.classes[cls] = stats

    @property
    def first(self) -> int | None:
        return min(self.seconds) if self.seconds else None

    @property
    def last(self) -> int | None:
        return max(self.seconds) if self.seconds else None

    def window(self, start: float, end: float, classes: tuple[str, ...] | None = None
               ) -> ClassStats:
        """All requests of CLASSES (every class when None) in seconds [start, end)."""
        total = ClassStats()
        for t, second in self.seconds.items():
            if start <= t < end:
                for cls, stats in second.classes.items():
                    if classes is None or cls in classes:
                        total.merge(stats)
        return total

    def totals(self) -> dict[str, int]:
        """Request count per route class over the whole run."""
        counts: dict[str, int] = {}
        for second in self.seconds.values():
            for cls, stats in second.classes.items():
                counts[cls] = counts.get(cls, 0) + stats.count
        return counts
