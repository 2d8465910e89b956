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


# The open model's defaults (chaoslib_edx.load.openmodel), here to be read without Locust.
POOL_S = 3.0         # default pool: sessions for this many seconds of the peak rate
SPAWN_RATE = 100.0   # sessions signed in per second while the pool fills
READY_TIMEOUT_S = 60.0  # beyond the spawn, the pool's sign-ins may take this long
BACKLOG_S = 10.0     # arrivals waiting for a session: at most this many seconds of the peak
LATE_MS = 100        # an action starting later than this after its time is late


@dataclass(frozen=True)
class ArrivalCurve:
    """The open model's schedule: target arrivals per second over run time, straight
    lines between (t, rate) points (a step is two points at one t). Arrival i is due
    when the integral of the rate reaches i, so a ramp spaces arrivals as it should."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        times = [t for t, _ in self.points]
        if len(self.points) < 2 or times[0] != 0 or times != sorted(times) \
                or any(r < 0 for _, r in self.points) or times[-1] <= 0:
            raise ValueError("an arrival curve starts at t=0, has times that never decrease, "
                             "a length > 0 and rates >= 0")
        # Arrivals due by the end of each segment (a zero-length one, a step, adds none).
        totals, done = [], 0.0
        for (t0, r0), (t1, r1) in zip(self.points, self.points[1:]):
            done += (t1 - t0) * (r0 + r1) / 2
            totals.append(done)
        object.__setattr__(self, "_totals", tuple(totals))

    @classmethod
    def steps(cls, rates: list[float], step_s: float) -> "ArrivalCurve":
        """Each rate held STEP_S seconds, one after the other."""
        points: list[tuple[float, float]] = []
        for index, rate in enumerate(rates):
            points += [(index * step_s, rate), ((index + 1) * step_s, rate)]
        return cls(tuple(points))

    @classmethod
    def parse(cls, text: str) -> "ArrivalCurve":
        """'t:rate,t:rate,...' (what --edx-arrivals takes); ValueError when it is not one."""
        try:
            points = tuple((float(t), float(r)) for t, r in
                           (pair.split(":") for pair in text.split(",") if pair.strip()))
        except ValueError:
            raise ValueError(f"'{text}' is not t:rate pairs separated by commas") from None
        return cls(points)

    def encode(self) -> str:
        return ",".join(f"{t:g}:{r:g}" for t, r in self.points)

    @property
    def duration_s(self) -> float:
        return self.points[-1][0]

    @property
    def peak(self) -> float:
        return max(r for _, r in self.points)

    def rate_at(self, t: float) -> float:
        """The target rate at T (the later value at a step)."""
        for (t0, r0), (t1, r1) in zip(self.points, self.points[1:]):
            if t0 <= t < t1:
                return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
        return self.points[-1][1] if t == self.duration_s else 0.0

    def arrivals_until(self, t: float) -> float:
        """How many arrivals are due in [0, T): the integral of the rate."""
        total = 0.0
        for (t0, r0), (t1, r1) in zip(self.points, self.points[1:]):
            if t <= t0:
                break
            end = min(t, t1)
            if end > t0:
                total += (end - t0) * (r0 + (r0 + (r1 - r0) * (end - t0) / (t1 - t0))) / 2
        return total

    def time_of(self, n: float) -> float | None:
        """When arrival N (counted from 0) is due; None when the curve ends first. A
        bisection over the segments' running totals: a replay has thousands of them."""
        index = bisect.bisect_right(self._totals, n)
        if index >= len(self._totals):
            return None
        (t0, r0), (t1, r1) = self.points[index], self.points[index + 1]
        need = n - (self._totals[index - 1] if index else 0.0)
        slope = (r1 - r0) / (t1 - t0)
        # Solve r0*x + slope/2*x^2 = need; this form is exact for any slope sign.
        root = math.sqrt(max(0.0, r0 * r0 + 2 * slope * need))
        return t0 + (2 * need / (r0 + root) if r0 + root > 0 else 0.0)
