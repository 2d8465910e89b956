"""The servers' route classes agree with the load's request names ("class: route")."""

import pytest

from chaoslib_edx.courses import course_key, structure
from chaoslib_edx.routes import SERVED_BY, TIERS, route_class

COURSE = course_key(1)
UNIT = structure(COURSE)["chapters"][0]["sequences"][0]["units"][0]
PROBLEM = UNIT["blocks"][1]

# Every request the shipped course-launch profile makes, by its request name.
LOAD_REQUESTS = [
    ("auth: csrf token", "/csrf/api/v1/token"),
    ("auth: login", "/api/user/v2/account/login_session/"),
    ("api: enroll", "/api/enrollment/v1/enrollment"),
    ("api: enrollments", "/api/enrollment/v1/enrollment"),
    ("api: enrollment", f"/api/enrollment/v1/enrollment/{COURSE}"),
    ("api: enrollment course", f"/api/enrollment/v1/course/{COURSE}"),
    ("api: problem check",
     f"/courses/{COURSE}/xblock/{PROBLEM}/handler/xmodule_handler/problem_check"),
    ("api: completion", f"/courses/{COURSE}/xblock/{PROBLEM}/handler/publish_completion"),
    ("lms: course outline", f"/api/course_home/outline/{COURSE}"),
    ("lms: course metadata", f"/api/courseware/course/{COURSE}"),
    ("lms: sequence", f"/api/courseware/sequence/{UNIT['id']}?x=1"),
    ("lms: unit", f"/xblock/{UNIT['id']}"),
    ("tracking: event", "/event"),
]


@pytest.mark.parametrize("name, path", LOAD_REQUESTS)
def test_the_lb_classes_a_request_as_the_load_names_it(name: str, path: str) -> None:
    assert route_class(path, "lb") == name.split(":", 1)[0]


def test_the_cdn_edge_serves_video_only() -> None:
    assert route_class(UNIT["video"], "cdn") == "video"
    assert set(SERVED_BY) == {"auth", "lms", "api", "tracking", "video"}
    assert SERVED_BY["video"] == "cdn" and SERVED_BY["api"] == "lb"


def test_probes_and_metrics_are_in_no_class() -> None:
    for path in ("/heartbeat", "/heartbeat?extended", "/metrics", "/favicon.ico"):
        assert route_class(path) == "other"


def test_patterns_are_plain_enough_for_mtail() -> None:
    """RE2 has no lookaround or backreferences; the mtail template escapes '/' itself."""
    for routes in TIERS.values():
        for _, pattern in routes:
            assert "(?=" not in pattern and "(?!" not in pattern and "(?<" not in pattern
            assert "\\/" not in pattern
