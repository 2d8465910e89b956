"""The course launch's learners in the open model: actions arrive at a target rate.

    locust -f loadprofiles/open_launch.py --headless --host http://127.0.0.1:18000 \\
        --edx-arrivals 0:5,30:5,30:20,60:20 -t 90s --edx-metrics runs/open.jsonl

Each arrival is one action of course_launch.Learner (its weighted task mix), taken by an
idle session of a pool signed in first; see chaoslib_edx.load.openmodel for the schedule,
the pool, late and dropped arrivals, and latency from the intended start.
"""

import course_launch

from chaoslib_edx.load.openmodel import OpenShape, OpenUser


class OpenLearner(OpenUser, course_launch.Learner):
    """A pooled learner session: it acts when an arrival is due, not after a think time."""


class ArrivalShape(OpenShape):
    """The pool while the arrival curve runs (--edx-arrivals)."""
