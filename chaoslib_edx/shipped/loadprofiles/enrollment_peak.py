"""Replay a recorded enrollment peak, scaled and time-compressed.

    locust -f loadprofiles/enrollment_peak.py --headless --host http://127.0.0.1:18000 \
        --curve loadprofiles/data/enrollment_peak.csv --scale 2.5 --time-scale 720

The CSV is `offset_s,rps` (or `timestamp,rps`, or `...,users`); `edx-gameday load
import-access-log` makes one from an nginx or ALB access log. For an rps curve each
learner does one request per second, so users = requests per second.
"""

import math
from pathlib import Path

import course_launch
from locust import LoadTestShape, between, constant_throughput, events

from chaoslib_edx.load import plugin
from chaoslib_edx.load.shapes import ReplayCurve

DEFAULT_CURVE = Path(__file__).parent / "data" / "enrollment_peak.csv"


class PeakLearner(course_launch.Learner):
    """The course-launch learner, paced by the curve (one request a second for rps)."""

    wait_time = constant_throughput(1)


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
