"""The sandbox LMS's routes, through the real nginx load balancer."""

import requests

from chaoslib_edx.sandbox.database import course_id
from tests.sandbox.helpers import login


def test_login_then_dashboard(sandbox) -> None:
    session = login(sandbox.layout.lb_url)
    dashboard = session.get(f"{sandbox.layout.lb_url}/dashboard", timeout=5)
    assert dashboard.status_code == 200
    assert dashboard.json()["username"] == "learner1"
    assert dashboard.headers["X-Replica"].startswith("lms-")


def test_dashboard_without_session_redirects_to_login(sandbox) -> None:
    response = requests.get(f"{sandbox.layout.lb_url}/dashboard", allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_wrong_password_is_refused(sandbox) -> None:
    response = requests.post(f"{sandbox.layout.lb_url}/login",
                             data={"username": "learner1", "password": "nope"}, timeout=5)
    assert response.status_code == 401


def test_session_is_shared_by_every_replica(sandbox) -> None:
    session = login(sandbox.layout.lb_url, "learner2")
    replicas = set()
    for _ in range(30):
        response = session.get(f"{sandbox.layout.lb_url}/dashboard", timeout=5)
        assert response.status_code == 200
        replicas.add(response.headers["X-Replica"])
    assert replicas == set(sandbox.layout.lms_ports)


def test_catalog_courseware_and_problem_check(sandbox) -> None:
    base = sandbox.layout.lb_url
    catalog = requests.get(f"{base}/api/courses/v1/courses/", timeout=5).json()
    assert catalog["pagination"]["count"] == 4
    session = login(base, "learner3")
    course = course_id(2)
    outline = session.get(f"{base}/courses/{course}/courseware", timeout=5).json()
    assert outline["id"] == course and len(outline["sections"]) == 4
    right = session.post(f"{base}/courses/{course}/problem/3/check", data={"answer": "42"},
                         timeout=5).json()
    wrong = session.post(f"{base}/courses/{course}/problem/4/check", data={"answer": "7"},
                         timeout=5).json()
    assert (right["success"], wrong["success"]) == ("correct", "incorrect")
    assert session.get(f"{base}/courses/course-v1:none/courseware", timeout=5).status_code == 404


def test_enrollment_needs_a_session_and_a_real_course(sandbox) -> None:
    base = sandbox.layout.lb_url
    body = {"course_details": {"course_id": course_id(1)}}
    assert requests.post(f"{base}/api/enrollment/v1/enrollment", json=body,
                         timeout=5).status_code == 401
    session = login(base, "learner4")
    bad = session.post(f"{base}/api/enrollment/v1/enrollment",
                       json={"course_details": {"course_id": "course-v1:nope"}}, timeout=5)
    assert bad.status_code == 400
