"""Django judges the load: the course-launch profile's real requests (a plain `locust -f`
run) go through Django's own CSRF, session and login machinery behind edx-platform's URL
shapes (tests/load/django_lms.py), and the sandbox LMS must answer the requests the
profile depends on as that Django app does. No Open edX can run here; Django can, so the
differences that hid behind our imitation (a token rotated at login, /event under CSRF,
the outline's shape, completion on scored blocks, input names) fail here first."""

import json
import os
import subprocess
import sys

import pytest
import requests

from chaoslib_edx.courses import block_id, course_key, structure
from chaoslib_edx.learner import CSRF_PATH, LOGIN_PATH
from tests.conftest import DJANGO_LEARNERS, REPO

LEARNERS = DJANGO_LEARNERS[:6]  # learner1..6, as the sandbox seeds them
USERS, RUN_S = 6, 12


def _observe(base: str, username: str, password: str) -> dict:
    """What the LMS at BASE answers to each request shape the profile depends on."""
    course = course_key(1)
    unit = structure(course)["chapters"][0]["sequences"][0]["units"][0]
    text, problem, _video = unit["blocks"]
    session = requests.Session()
    before = session.get(base + CSRF_PATH, timeout=5).json()["csrfToken"]
    signed_in = session.post(base + LOGIN_PATH, headers={"X-CSRFToken": before}, timeout=5,
                             data={"email_or_username": username, "password": password})
    after = session.get(base + CSRF_PATH, timeout=5).json()["csrfToken"]

    def post(path: str, token: str | None, **kwargs: object) -> requests.Response:
        headers = {"X-CSRFToken": token} if token else {}
        return session.post(base + path, headers=headers, timeout=5, **kwargs)

    event = {"event_type": "play_video", "event": "{}"}
    blocks = session.get(f"{base}/api/course_home/outline/{course}",
                         timeout=5).json()["course_blocks"]
    handler = f"/courses/{course}/xblock/{{}}/handler/"
    return {
        "login": signed_in.status_code,
        "POST with the token fetched before the login": post("/event", before,
                                                             data=event).status_code,
        "POST with the token fetched after it": post("/event", after, data=event).status_code,
        "POST /event without a token": post("/event", None, data=event).status_code,
        "the outline's course_blocks keys": sorted(blocks),
        "course blocks in the outline": sum(b["type"] == "course"
                                            for b in blocks["blocks"].values()),
        "completion on a problem": post(handler.format(problem) + "publish_completion", after,
                                        json={"completion": 1.0}).status_code,
        "completion on an html block": post(handler.format(text) + "publish_completion",
                                            after, json={"completion": 1.0}).status_code,
        "an answer named by the usage key": post(
            handler.format(problem) + "xmodule_handler/problem_check", after,
            data={f"input_{problem}_2_1": "42"}).json()["success"],
        "an answer named by the block id": post(
            handler.format(problem) + "xmodule_handler/problem_check", after,
            data={f"input_{block_id(problem)}_2_1": "42"}).json()["success"],
    }


EXPECTED = {  # what Django and edx-platform answer (see django_lms.py for the sources)
    "login": 200,
    "POST with the token fetched before the login": 403,
    "POST with the token fetched after it": 200,
    "POST /event without a token": 403,
    "the outline's course_blocks keys": ["blocks"],
    "course blocks in the outline": 1,
    "completion on a problem": 400,
    "completion on an html block": 200,
    "an answer named by the usage key": "incorrect",
    "an answer named by the block id": "correct",
}


@pytest.mark.integration
def test_django_answers_as_edx_platform_does(django_lms) -> None:
    """The judge itself: Django's middleware and login() give the answers expected."""
    assert _observe(django_lms, *LEARNERS[0]) == EXPECTED


def test_the_sandbox_lms_answers_as_django_does(sandbox, django_lms) -> None:
    """Every request shape the profile depends on, side by side."""
    judge = _observe(django_lms, *LEARNERS[1])
    assert _observe(sandbox.layout.lb_url, *LEARNERS[1]) == judge == EXPECTED


@pytest.mark.integration
@pytest.mark.plain
def test_the_profile_signs_in_once_per_session_and_django_accepts_every_request(
        django_lms, tmp_path) -> None:
    """A plain `locust -f` run of the course-launch profile against Django: no request is
    refused (no 403 after a login, no 400 from a handler), every answer is graded, and
    each learner session signs in once (a login loop would sign in hundreds of times)."""
    learners = tmp_path / "learners.csv"
    learners.write_text("username,password\n" + "".join(f"{u},{p}\n" for u, p in LEARNERS))
    courses = [course_key(2), course_key(5)]
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "loadprofiles/course_launch.py"),
         "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{RUN_S}s",
         "--host", django_lms, "--json-file", str(tmp_path / "locust"), "--only-summary"],
        cwd=tmp_path, capture_output=True, text=True, timeout=RUN_S + 60,
        env={**os.environ, "EDX_LEARNERS_FILE": str(learners), "EDX_CDN_URL": django_lms,
             "EDX_COURSE_KEYS": ",".join(courses)})
    assert result.returncode == 0, result.stderr[-3000:]
    stats = {e["name"]: e for e in json.loads((tmp_path / "locust.json").read_text())}
    failed = {name: e["num_failures"] for name, e in stats.items() if e["num_failures"]}
    assert failed == {}, failed
    seen = requests.get(f"{django_lms}/_judged", timeout=5).json()
    refused = {key: n for key, n in seen.items() if key.endswith((" 400", " 403", " 404"))}
    assert refused == {}, seen
    assert seen.get("graded", 0) > 0 and "ungraded" not in seen, seen
    assert {key.split()[1] for key in seen if key.startswith("enrolled ")} <= set(courses)
    # Sessions: each user's first, and a new learner on about 1 action in 101.
    actions = sum(e["num_requests"] for name, e in stats.items()
                  if not name.startswith(("auth:", "video:")))
    assert stats["auth: login"]["num_requests"] == seen["logins"]
    assert seen["logins"] <= USERS + 3 * actions / 101 + 3, (seen["logins"], actions)
    assert actions > 50, actions  # enough that a login loop would show
