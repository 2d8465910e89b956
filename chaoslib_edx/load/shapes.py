"""Load curves for the Locust shapes, as pure functions of run time (no locust import).

Durations are in platform time; `time_scale` compresses them (24 replays 2 h in 5 min).
"""

import bisect
import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

from chaoslib_edx.errors import UserError


@dataclass(frozen=True)
class LaunchCurve:
    """A course launch: baseline, a spike to the peak, a plateau, a decay to baseline."""

    baseline_users: int = 5
    peak_users: int = 50
    baseline_s: float = 900       # 15 min before the launch
    spike_s: float = 45           # 10x in under a minute
    plateau_s: float = 3600
    decay_s: float = 2700
    time_scale: float = 24.0

    ENV = {"baseline_users": "EDX_BASELINE_USERS", "peak_users": "EDX_PEAK_USERS",
           "baseline_s": "EDX_BASELINE_S", "spike_s": "EDX_SPIKE_S",
           "plateau_s": "EDX_PLATEAU_S", "decay_s": "EDX_DECAY_S",
           "time_scale": "EDX_TIME_SCALE"}

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides: float) -> "LaunchCurve":
        """Parameters from EDX_* environment variables, then OVERRIDES; bad values exit 2."""
        environ = os.environ if environ is None else environ
        values: dict[str, float] = {}
        for name, var in cls.ENV.items():
            if var in environ:
                try:
                    values[name] = float(environ[var])
                except ValueError:
                    raise UserError(f"'{environ[var]}' is not a number",
                                    file="environment", field=var) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("baseline_users", "peak_users"):
            if key in values:
                values[key] = int(values[key])
        curve = cls(**values)
        if curve.peak_users < 1 or curve.baseline_users < 0 or curve.time_scale <= 0 \
                or min(curve.baseline_s, curve.spike_s, curve.plateau_s, curve.decay_s) < 0:
            raise UserError("users must be >= 0 (peak >= 1), durations >= 0, time_scale > 0",
                            file="environment", field="EDX_* load shape variables")
        return curve

    def fit(self, total_wall_s: float, peak_users: int) -> "LaunchCurve":
        """The same curve with the given peak, compressed to last TOTAL_WALL_S."""
        platform_s = self.baseline_s + self.spike_s + self.plateau_s + self.decay_s
        return LaunchCurve(max(1, round(self.baseline_users * peak_users / self.peak_users)),
                           peak_users, self.baseline_s, self.spike_s, self.plateau_s,
                           self.decay_s, platform_s / total_wall_s)

    @property
    def duration_s(self) -> float:
        """Wall-clock length of the whole curve."""
        return (self.baseline_s + self.spike_s + self.plateau_s + self.decay_s) / self.time_scale

    def users_at(self, wall_s: float) -> int | None:
        """Users wanted WALL_S seconds into the run; None once the curve has ended."""
        t = wall_s * self.time_scale
        base, peak = self.baseline_users, self.peak_users
        if t < self.baseline_s:
            return base
        t -= self.baseline_s
        if t < self.spike_s:
            return round(base + (peak - base) * t / self.spike_s)
        t -= self.spike_s
        if t < self.plateau_s:
            return peak
        t -= self.plateau_s
        if t < self.decay_s:
            return round(peak - (peak - base) * t / self.decay_s)
        return None

    def spawn_rate(self) -> float:
        """Users per wall second: the baseline within a second, and fast enough to follow
        the steepest part (the spike)."""
        spike_wall = max(self.spike_s / self.time_scale, 0.5)
        return float(max(1, self.baseline_users,
                         math.ceil((self.peak_users - self.baseline_users) / spike_wall)))


@dataclass(frozen=True)
class ReplayCurve:
    """A recorded curve (offset seconds -> rate) replayed scaled and time-compressed."""

    offsets: tuple[float, ...]
    values: tuple[float, ...]
    column: str                  # "users" or "rps"
    scale: float = 1.0
    time_scale: float = 1.0

    @classmethod
    def from_csv(cls, path: Path | str, scale: float = 1.0, time_scale: float = 1.0
                 ) -> "ReplayCurve":
        """Read `offset_s,rps` or `offset_s,users` (or `timestamp,...` in epoch seconds)."""
        path = Path(path)
        if scale <= 0 or time_scale <= 0:
            raise UserError("scale and time_scale must be > 0", file=path,
                            field="--scale/--time-scale")
        try:
            text = path.read_text()
        except OSError as exc:
            raise UserError(f"cannot read the curve ({exc.strerror})", file=path) from None
        rows = list(csv.reader(text.splitlines()))
        if not rows:
            raise UserError("the curve is empty (expected a header such as offset_s,rps)",
                            file=path, field="line 1")
        header = [h.strip() for h in rows[0]]
        if len(header) != 2 or header[0] not in ("offset_s", "timestamp") \
                or header[1] not in ("rps", "users"):
            raise UserError(f"header is {','.join(header)!r}; expected offset_s or timestamp, "
                            "then rps or users", file=path, field="line 1")
        offsets, values = [], []
        for number, row in enumerate(rows[1:], start=2):
            if not row or not "".join(row).strip():
                continue
            try:
                when, value = (float(cell) for cell in row)
            except ValueError:
                raise UserError(f"expected two numbers, got {','.join(row)!r}", file=path,
                                field=f"line {number}") from None
            if value < 0 or (offsets and when <= offsets[-1]):
                raise UserError("rates must be >= 0 and times strictly increasing",
                                file=path, field=f"line {number}")
            offsets.append(when)
            values.append(value)
        if not offsets:
            raise UserError("the curve has a header but no data rows", file=path,
                            field="line 2")
        start = offsets[0]
        return cls(tuple(o - start for o in offsets), tuple(values), header[1], scale,
                   time_scale)

    @property
    def duration_s(self) -> float:
        """Wall-clock length: the last row lasts as long as the one before it."""
        step = self.offsets[-1] - self.offsets[-2] if len(self.offsets) > 1 else 1.0
        return (self.offsets[-1] + step) / self.time_scale

    def rate_at(self, wall_s: float) -> float | None:
        """The scaled rate (users, or requests/s) at WALL_S; None after the end."""
        if wall_s >= self.duration_s:
            return None
        t = wall_s * self.time_scale
        return self.values[bisect.bisect_right(self.offsets, t) - 1] * self.scale
