"""Replay a recorded enrollment peak, scaled and time-compressed.

    locust -f loadprofiles/enrollment_peak.py --headless --host http://127.0.0.1:18000 \
        --curve loadprofiles/data/enrollment_peak.csv --scale 2.5 --time-scale 720

The CSV is `offset_s,rps` (or `timestamp,rps`, or `...,users`); `edx-gameday load
import-access-log` makes one from an nginx or ALB access log. For an rps curve each
learner sends one request per second (paced by requests, not actions), so users =
requests per second.
"""

import math
import time
from pathlib import Path

import course_launch
from locust import LoadTestShape, between, events

from chaoslib_edx.load import plugin
from chaoslib_edx.load.shapes import ReplayCurve

DEFAULT_CURVE = Path(__file__).parent / "data" / "enrollment_peak.csv"


class PeakLearner(course_launch.Learner):
    """The course-launch learner paced by requests, one a second on average, whatever an
    action sends (a unit view sends three): users = rps."""

    sent = 0          # requests since the last wait
    next_at = 0.0     # monotonic time this learner may act again

    def on_start(self) -> None:
        """The burst of a spawned learner's session start (sign-in, course home, first
        unit) is not paced: spawning follows the curve already. Later sign-ins (a new
        learner taking the seat) are."""
        spawned = self.next_at == 0.0
        super().on_start()
        if spawned:
            self.sent, self.next_at = 0, time.monotonic()

    def context(self) -> dict:
        return {"edx_pacer": self}  # every request of this learner counts in its pace

    def wait_time(self) -> float:
        now = time.monotonic()
        # Never more than a second of catching up: a slow platform is not then hammered.
        self.next_at = max(self.next_at, now - 1.0) + self.sent
        self.sent = 0
        return max(0.0, self.next_at - now)


@events.request.add_listener
def _count(context: dict | None = None, **_kwargs: object) -> None:
    pacer = (context or {}).get("edx_pacer")
    if pacer is not None:
        pacer.sent += 1


@events.init_command_line_parser.add_listener
def _add_arguments(parser) -> None:
    group = parser.add_argument_group("enrollment peak replay")
    group.add_argument("--curve", default=str(DEFAULT_CURVE), env_var="EDX_CURVE",
                       help="CSV of offset_s (or timestamp) and rps (or users).")
    group.add_argument("--scale", type=float, default=1.0, env_var="EDX_SCALE",
                       help="Multiply the curve's rate by this.")
    group.add_argument("--time-scale", type=float, default=720.0, env_var="EDX_TIME_SCALE",
                       help="Compress time by this factor (720: a day in 2 minutes).")


class ReplayShape(LoadTestShape):
    """Users follow the recorded curve; the run ends with the curve."""

    curve: ReplayCurve | None = None

    def _curve(self) -> ReplayCurve:
        if self.curve is None:
            options = self.runner.environment.parsed_options
            self.curve = ReplayCurve.from_csv(options.curve, options.scale, options.time_scale)
            if self.curve.column == "users":
                PeakLearner.wait_time = between(0.5, 2.0)
        return self.curve

    def tick(self) -> tuple[int, float] | None:
        if plugin.run_time_over(self):
            return None
        rate = self._curve().rate_at(self.get_run_time())
        if rate is None:
            return None
        users = math.ceil(rate)
        return users, max(10.0, float(users))
