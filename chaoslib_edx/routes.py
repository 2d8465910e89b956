"""A request's SLO route class from its path, as the servers see it.

The load names its requests "class: route" (see load.recorder.ROUTE_CLASSES); the servers
cannot read those names, so the LMS's /metrics and the mtail programs over the LB's and
the CDN edge's access logs classify the path with these tables instead. The patterns are
RE2 (mtail is Go) and Python alike: plain alternations, matched at the path's start.
"""

import re

# First match wins; anything else (/heartbeat, /metrics) is "other", in no SLO.
LMS_ROUTES: tuple[tuple[str, str], ...] = (
    ("auth", r"/(?:csrf/api/v1/token|login|(?:api/user|user_api)/v[12]/account/"
             r"login_session/)"),
    ("tracking", r"/event"),
    ("api", r"/(?:api/enrollment/|courses/[^/]+/xblock/[^/]+/handler/)"),
    ("lms", r"/(?:api/course_home/|api/courseware/|api/courses/|api/learner_home/|xblock/"
            r"|dashboard)"),
)
# The CDN edge serves course assets and video only.
CDN_ROUTES: tuple[tuple[str, str], ...] = (("video", r"/"),)

# Which tier's access log serves each class: the LB and the CDN edge see every request a
# learner makes, including those no LMS replica answered (a 502 when all are down).
TIERS = {"lb": LMS_ROUTES, "cdn": CDN_ROUTES}
SERVED_BY = {cls: tier for tier, routes in TIERS.items() for cls, _ in routes}

# Latency histogram buckets (seconds) on every tier: a latency SLO's threshold must be one.
LATENCY_BUCKETS_S = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_COMPILED = {tier: tuple((cls, re.compile(pattern)) for cls, pattern in routes)
             for tier, routes in TIERS.items()}


def route_class(path: str, tier: str = "lb") -> str:
    """The route class of PATH (query string allowed) on TIER; "other" when none."""
    path = path.split("?", 1)[0]
    return next((cls for cls, pattern in _COMPILED[tier] if pattern.match(path)), "other")
