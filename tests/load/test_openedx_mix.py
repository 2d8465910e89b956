"""The course-launch profile speaks Open edX with the published request mix: one plain
`locust -f` plateau (48 learners for 42 s after spawning) against the real sandbox,
then its learner actions counted from Locust's own stats and every request the load
balancer logged matched against edx-platform's URL configuration."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chaoslib_edx.load.series import Series
from tests.conftest import REPO
from tests.sandbox.helpers import settled

# 48 learners for 42 s: about as many actions as 20 for two minutes (over 1,500).
PLATEAU_S, LEARNERS = 42, 48

# The table: each learner action's share among what a learner sends (from the
# courses.edx.org mix in edx-load-tests' loadtests/lms/locustfile.py).
PUBLISHED = {"tracking events": 0.48, "xblock handler calls": 0.38,
             "courseware unit views": 0.08, "enrollment calls": 0.06}
# Which of the profile's request names is which action (a view counts once: its unit).
ACTIONS = {"tracking: event": "tracking events",
           "api: problem check": "xblock handler calls",
           "api: completion": "xblock handler calls",
           "lms: unit": "courseware unit views",
           "api: enrollments": "enrollment calls", "api: enrollment": "enrollment calls",
           "api: enrollment course": "enrollment calls"}

# edx-platform's patterns (settings.COURSE_KEY_PATTERN, COURSE_ID_PATTERN, USAGE_KEY_PATTERN
# and USAGE_ID_PATTERN, from lms/envs/common.py, without their group names).
COURSE_KEY = r"[^/+]+(/|\+)[^/+]+(/|\+)[^/?]+"
USAGE_KEY = r"(?:i4x://?[^/]+/[^/]+/[^/]+/[^@]+(?:@[^/]+)?)|(?:[^/]+)"
ROUTES = [  # (methods, path regex, where edx-platform routes it)
    ("GET", r"/heartbeat", "lms/urls.py: path('heartbeat', include(heartbeat.urls))"),
    ("GET", r"/csrf/api/v1/token", "lms/urls.py includes edx-drf-extensions' csrf.urls"),
    ("POST", r"/(api/user|user_api)/v(1|2)/account/login_session/",
     "openedx/core/djangoapps/user_authn/urls_common.py"),
    ("POST", r"/event", "common/djangoapps/track/urls.py"),
    ("GET POST", r"/api/enrollment/v1/enrollment",
     "openedx/core/djangoapps/enrollments/urls.py (under api/enrollment/v1/)"),
    ("GET", rf"/api/enrollment/v1/enrollment/{COURSE_KEY}",
     "openedx/core/djangoapps/enrollments/urls.py"),
    ("GET", rf"/api/enrollment/v1/course/{COURSE_KEY}",
     "openedx/core/djangoapps/enrollments/urls.py"),
    ("GET", r"/api/courses/v1/courses/", "lms/djangoapps/course_api/urls.py"),
    ("GET", rf"/api/courses/v1/courses/{COURSE_KEY}", "lms/djangoapps/course_api/urls.py"),
    ("GET", r"/api/learner_home/init/?", "lms/djangoapps/learner_home/urls.py"),
    ("GET", r"/dashboard/?", "lms/urls.py: dashboard"),
    ("GET", rf"/api/course_home/outline/{COURSE_KEY}",
     "lms/djangoapps/course_home_api/urls.py (under api/course_home/)"),
    ("GET", rf"/api/courseware/course/{COURSE_KEY}",
     "openedx/core/djangoapps/courseware_api/urls.py (under api/courseware/)"),
    ("GET", rf"/api/courseware/sequence/({USAGE_KEY})",
     "openedx/core/djangoapps/courseware_api/urls.py"),
    ("GET", rf"/xblock/({USAGE_KEY})", "lms/urls.py: render_xblock"),
    ("POST", rf"/courses/{COURSE_KEY}/xblock/({USAGE_KEY})/handler/[^/]*(?:/.*)?",
     "lms/urls.py: xblock_handler"),
]
# Routed outside edx-platform's URL configuration, by design: course assets are served by
# the contentserver middleware; video and assets go to the CDN host, whose log is not this.
EXEMPT = [r"/asset-v1:[^/]+"]
_LINE = re.compile(r'^\S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+"')


def _routed(method: str, path: str) -> bool:
    return any(method in methods.split() and re.fullmatch(pattern, path)
               for methods, pattern, _ in ROUTES) or \
        any(re.fullmatch(pattern, path) for pattern in EXEMPT)


@pytest.fixture(scope="module")
def plateau(sandbox, tmp_path_factory):
    """Plain Locust, constant users; (Locust's stats, the LB's log lines, metrics)."""
    out = tmp_path_factory.mktemp("plateau")
    access_log = sandbox.layout.logs / "lb-access.log"
    offset = access_log.stat().st_size if access_log.exists() else 0
    constant = {"EDX_BASELINE_USERS": str(LEARNERS), "EDX_PEAK_USERS": str(LEARNERS),
                "EDX_BASELINE_S": str(PLATEAU_S), "EDX_SPIKE_S": "0", "EDX_PLATEAU_S": "0",
                "EDX_DECAY_S": "0", "EDX_TIME_SCALE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "loadprofiles/course_launch.py"),
         "--headless", "-t", f"{PLATEAU_S + 10}s", "--host", sandbox.layout.lb_url,
         "--edx-metrics", str(out / "metrics.jsonl"), "--json-file", str(out / "locust"),
         "--only-summary"],
        capture_output=True, text=True, timeout=PLATEAU_S + 90,
        env={**os.environ, **constant, "EDX_CDN_URL": sandbox.layout.cdn_url,
             "EDX_LEARNERS": "200", "EDX_COURSES": "4"})
    assert result.returncode == 0, result.stderr[-2000:]
    settled(lambda: access_log.stat().st_size, still_s=2)  # nginx flushes its log each second
    with access_log.open() as handle:
        handle.seek(offset)
        lines = handle.read().splitlines()
    return json.loads((out / "locust.json").read_text()), lines, out / "metrics.jsonl"


def test_action_shares_match_the_published_mix(plateau) -> None:
    stats, _, _ = plateau
    counts = dict.fromkeys(PUBLISHED, 0)
    for entry in stats:
        if entry["name"] in ACTIONS:
            counts[ACTIONS[entry["name"]]] += entry["num_requests"]
    total = sum(counts.values())
    assert total > 1000, counts  # 48 learners, ~0.8 actions a second each, 42 s
    for action, share in PUBLISHED.items():
        assert counts[action] / total == pytest.approx(share, abs=0.05), (action, counts)
    names = {entry["name"] for entry in stats}
    assert {"auth: csrf token", "auth: login", "api: enroll", "video: segment"} <= names


def test_every_learner_request_is_one_edx_platform_routes(plateau) -> None:
    _, lines, _ = plateau
    requests = [match.group("method", "target") for line in lines
                if (match := _LINE.match(line))]
    assert len(requests) > 1000
    unrouted = sorted({f"{method} {target}" for method, target in requests
                       if not _routed(method, target.split("?", 1)[0])})
    assert unrouted == []


def test_routes_and_exemptions_are_not_a_catch_all() -> None:
    """The table refuses what Open edX does not route (the old sandbox's API)."""
    assert not _routed("POST", "/login")
    assert not _routed("POST", "/courses/course-v1:edX+C001+2026/problem/3/check")
    assert not _routed("GET", "/courses/course-v1:edX+C001+2026/courseware/x/y/z/w")
    assert _routed("GET", "/asset-v1:edX+C001+2026+type@asset+block@image.png")
    assert _routed("POST", "/courses/course-v1:edX+C001+2026/xblock/block-v1:edX+C001+2026"
                           "+type@problem+block@p1/handler/xmodule_handler/problem_check")


def test_sessions_hold_under_a_healthy_platform(plateau) -> None:
    """Every signed-in request is a session-continuity event, and none lost its session."""
    _, _, metrics = plateau
    series = Series(Path(metrics)).refresh()
    session = series.window(series.first, series.last + 1, ("session",))
    assert session.count > 1000 and session.failures == 0
    assert "session" not in series.totals()  # request totals leave events out


def test_each_learner_session_signs_in_once(plateau) -> None:
    """The sandbox rotates the CSRF token at login as Django does: a profile that kept the
    token it fetched before would have every POST refused and sign in again, in a loop.
    Logins: each learner's first session, and a new learner on about 1 action in 101."""
    stats, _, _ = plateau
    by_name = {entry["name"]: entry for entry in stats}
    actions = sum(by_name[name]["num_requests"] for name in ACTIONS if name in by_name)
    logins = by_name["auth: login"]["num_requests"]
    assert LEARNERS <= logins <= LEARNERS + 2 * actions / 101 + 5, (logins, actions)
    refused = {name: e["num_failures"] for name, e in by_name.items() if e["num_failures"]}
    assert refused == {}, refused
