"""The sandbox LMS speaks Open edX's HTTP API, through the real nginx load balancer."""

import json
import shutil
import subprocess
import sys
import uuid

import requests

from chaoslib_edx.courses import block_id, course_key, structure
from chaoslib_edx.learner import LOGIN_PATH
from chaoslib_edx.ports import free_block
from chaoslib_edx.sandbox import database, endpoints
from tests.sandbox.helpers import eventually, login


def test_login_without_the_csrf_token_is_forbidden(sandbox) -> None:
    base = sandbox.layout.lb_url
    form = {"email_or_username": "learner1", "password": "edx"}
    refused = requests.post(base + LOGIN_PATH, data=form, timeout=5)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    session = requests.Session()
    token = session.get(f"{base}/csrf/api/v1/token", timeout=5).json()["csrfToken"]
    assert session.cookies["csrftoken"] == token
    wrong = session.post(base + LOGIN_PATH, data=form, headers={"X-CSRFToken": "x"}, timeout=5)
    assert wrong.status_code == 403
    signed_in = session.post(base + LOGIN_PATH, data=form, headers={"X-CSRFToken": token},
                             timeout=5)
    assert signed_in.status_code == 200 and signed_in.json()["success"] is True
    assert {"sessionid", "edxloggedin"} <= set(session.cookies.keys())
    # As Django's login() does, the token is rotated: the one fetched before is refused.
    assert session.cookies["csrftoken"] != token
    stale = session.post(f"{base}/event", data={"event_type": "x"},
                         headers={"X-CSRFToken": token}, timeout=5)
    assert stale.status_code == 403
    fresh = session.get(f"{base}/csrf/api/v1/token", timeout=5).json()["csrfToken"]
    assert session.post(f"{base}/event", data={"event_type": "x"},
                        headers={"X-CSRFToken": fresh}, timeout=5).status_code == 200
    # /event is not exempt (edx-platform's track.views enforce CSRF).
    assert session.post(f"{base}/event", data={"event_type": "x"}, timeout=5).status_code == 403


def test_login_versions_and_aliases(sandbox) -> None:
    base = sandbox.layout.lb_url
    for path, field, account in (
            ("/api/user/v1/account/login_session/", "email", "learner5@example.org"),
            ("/user_api/v1/account/login_session/", "email", "learner5@example.org"),
            ("/user_api/v2/account/login_session/", "email_or_username", "learner5"),
            ("/api/user/v2/account/login_session/", "email_or_username",
             "learner5@example.org")):
        session = requests.Session()
        token = session.get(f"{base}/csrf/api/v1/token", timeout=5).json()["csrfToken"]
        response = session.post(base + path, data={field: account, "password": "edx"},
                                headers={"X-CSRFToken": token}, timeout=5)
        assert response.status_code == 200, (path, response.text)
        home = session.get(f"{base}/api/learner_home/init", timeout=5)
        assert home.json()["learner"]["username"] == "learner5"


def test_bad_credentials_get_open_edx_error_shape(sandbox) -> None:
    base = sandbox.layout.lb_url
    session = requests.Session()
    token = session.get(f"{base}/csrf/api/v1/token", timeout=5).json()["csrfToken"]
    response = session.post(base + LOGIN_PATH, headers={"X-CSRFToken": token}, timeout=5,
                            data={"email_or_username": "learner1", "password": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error_code"] == "incorrect-email-or-password"
    assert "sessionid" not in session.cookies


def test_anonymous_pages_redirect_and_apis_refuse(sandbox) -> None:
    base = sandbox.layout.lb_url
    page = requests.get(f"{base}/dashboard", allow_redirects=False, timeout=5)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert requests.get(f"{base}/login", timeout=5).status_code == 200
    for path in ("/api/learner_home/init", "/api/enrollment/v1/enrollment",
                 f"/api/course_home/outline/{course_key(1)}"):
        assert requests.get(base + path, timeout=5).status_code == 401, path


def test_session_is_shared_by_every_replica(sandbox) -> None:
    session = login(sandbox.layout.lb_url, "learner2")
    replicas = set()
    for _ in range(30):
        response = session.get(f"{sandbox.layout.lb_url}/api/learner_home/init", timeout=5)
        assert response.status_code == 200
        replicas.add(response.headers["X-Replica"])
    assert replicas == set(sandbox.layout.lms_ports)


def test_catalog_and_enrollment_api(sandbox) -> None:
    base = sandbox.layout.lb_url
    catalog = requests.get(f"{base}/api/courses/v1/courses/", timeout=5).json()
    assert catalog["pagination"]["count"] == 4
    # Loads in the shared sandbox sign in as any seeded learner and may have enrolled this
    # one everywhere: drop one enrollment on the primary so the test owns its starting state.
    course = catalog["results"][-1]["id"]
    with database.admin_connect(sandbox.layout, endpoints.primary(sandbox.layout, "db")) \
            as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM edxapp.enrollments WHERE course_id = %s AND learner_id = "
                    "(SELECT id FROM edxapp.learners WHERE username = 'learner4')", (course,))
    session = login(base, "learner4")
    before = {e["course_details"]["course_id"] for e in
              session.get(f"{base}/api/enrollment/v1/enrollment", timeout=5).json()}
    assert course not in before
    assert requests.get(f"{base}/api/courses/v1/courses/{course}", timeout=5).json()["id"] \
        == course
    assert requests.get(f"{base}/api/enrollment/v1/course/{course}", timeout=5).json()[
        "course_id"] == course
    assert session.get(f"{base}/api/enrollment/v1/enrollment/{course}", timeout=5).json() \
        is None
    bad = session.post(f"{base}/api/enrollment/v1/enrollment",
                       json={"course_details": {"course_id": "course-v1:no+pe+x"}}, timeout=5)
    assert bad.status_code == 400
    enrolled = session.post(f"{base}/api/enrollment/v1/enrollment",
                            json={"course_details": {"course_id": course}}, timeout=5)
    assert enrolled.json()["is_active"] is True
    mine = session.get(f"{base}/api/enrollment/v1/enrollment", timeout=5).json()
    assert {e["course_details"]["course_id"] for e in mine} == before | {course}
    assert session.get(f"{base}/api/enrollment/v1/enrollment/{course}", timeout=5).json()[
        "mode"] == "audit"


def _studentmodule(layout, usage: str) -> tuple:
    with database.admin_connect(layout, "db-a") as conn, conn.cursor() as cur:
        cur.execute("SELECT module_type, grade, max_grade FROM edxapp.courseware_studentmodule "
                    "WHERE student_id = 3 AND module_state_key = %s", (usage,))
        return cur.fetchall()


def test_a_unit_as_the_learning_mfe_loads_it_and_a_problem_check(sandbox) -> None:
    base, course = sandbox.layout.lb_url, course_key(1)
    session = login(base, "learner3")
    outline = session.get(f"{base}/api/course_home/outline/{course}", timeout=5).json()
    assert list(outline["course_blocks"]) == ["blocks"]  # upstream names no root
    blocks = outline["course_blocks"]["blocks"]
    (root,) = [key for key, block in blocks.items() if block["type"] == "course"]
    first_chapter = blocks[blocks[root]["children"][0]]
    sequences = first_chapter["children"]
    assert sequences[0] == structure(course)["chapters"][0]["sequences"][0]["id"]
    assert blocks[sequences[0]]["type"] == "sequential"
    assert session.get(f"{base}/api/courseware/course/{course}", timeout=5).json()["id"] \
        == course
    items = session.get(f"{base}/api/courseware/sequence/{sequences[0]}", timeout=5).json()[
        "items"]
    unit = session.get(f"{base}/xblock/{items[0]['id']}", timeout=5)
    assert unit.status_code == 200 and "text/html" in unit.headers["Content-Type"]
    problem = next(u for u in structure(course)["chapters"][0]["sequences"][0]["units"][0][
        "blocks"] if "+type@problem+" in u)
    assert f'data-usage-id="{problem}"' in unit.text
    handler = f"{base}/courses/{course}/xblock/{problem}/handler"
    # capa names the inputs by the block's id; the usage key's name is no answer.
    named_by_key = session.post(f"{handler}/xmodule_handler/problem_check",
                                data={f"input_{problem}_2_1": "42"}, timeout=5).json()
    assert named_by_key["success"] == "incorrect"
    right = session.post(f"{handler}/xmodule_handler/problem_check",
                         data={f"input_{block_id(problem)}_2_1": "42"}, timeout=5).json()
    assert right["success"] == "correct" and right["current_score"] == 1
    assert eventually(lambda: _studentmodule(sandbox.layout, problem)) == (("problem", 1.0, 1.0),)
    wrong = session.post(f"{handler}/xmodule_handler/problem_check",
                         data={f"input_{block_id(problem)}_2_1": "7"}, timeout=5).json()
    assert wrong["success"] == "incorrect"
    # Completion on view: an html block's, never a scored block's.
    refused = session.post(f"{handler}/publish_completion", json={"completion": 1.0}, timeout=5)
    assert refused.status_code == 400 and "completion on view" in refused.json()["error"]
    text = problem.replace("+type@problem+block@problem", "+type@html+block@text")
    assert session.post(f"{base}/courses/{course}/xblock/{text}/handler/publish_completion",
                        json={"completion": 1.0}, timeout=5).json() == {"result": "ok"}
    assert session.post(f"{handler}/nope", timeout=5).status_code == 404
    assert session.get(f"{base}/api/course_home/outline/course-v1:no+pe+x",
                       timeout=5).status_code == 404


def test_tracking_events_are_logged_per_replica(sandbox) -> None:
    base = sandbox.layout.lb_url
    session = login(base, "learner6")
    marker = json.dumps({"id": f"video-{uuid.uuid4().hex}"})  # loads share the sandbox
    for _ in range(6):
        assert session.post(f"{base}/event", data={"event_type": "play_video",
                                                   "event": marker}, timeout=5).text == "success"
    logs = sandbox.layout.logs / "tracking"
    lines = [json.loads(line) for path in logs.glob("lms-*.log")
             for line in path.read_text().splitlines()]
    mine = [line for line in lines if line["event"] == marker]
    assert len(mine) == 6
    assert {(line["username"], line["event_type"]) for line in mine} == {
        ("learner6", "play_video")}


def test_heartbeat_in_open_edx_shape(sandbox) -> None:
    base = sandbox.layout.lb_url
    basic = requests.get(f"{base}/heartbeat", timeout=5).json()
    assert basic == {"sql": {"status": True, "message": "OK"},
                     "modulestore": {"status": True, "message": "OK"}}
    extended = requests.get(f"{base}/heartbeat?extended", timeout=5).json()
    assert extended["cache"] == {"status": True, "message": "OK"}


def test_the_grade_reaches_the_replica(sandbox) -> None:
    """A problem_check's state is written to the primary and replicated."""
    base, course = sandbox.layout.lb_url, course_key(3)
    problem = structure(course)["chapters"][1]["sequences"][0]["units"][2]["blocks"][1]
    session = login(base, "learner7")
    session.post(f"{base}/courses/{course}/xblock/{problem}/handler/xmodule_handler/"
                 "problem_check", data={f"input_{block_id(problem)}_2_1": "42"}, timeout=5)

    def on_replica() -> tuple:
        with database.admin_connect(sandbox.layout, "db-b") as conn, conn.cursor() as cur:
            cur.execute("SELECT grade FROM edxapp.courseware_studentmodule WHERE student_id = 7"
                        " AND module_state_key = %s", (problem,))
            return cur.fetchall()
    assert eventually(on_replica, timeout=10) == ((1.0,),)


def test_login_limits_when_the_sandbox_enforces_them(sandbox, tmp_path) -> None:
    """A replica of our own with sandbox.login_rate_limit on, against the sandbox's
    database path and Redis: 30 attempts per account, 100 per address, then 429."""
    state = tmp_path / "state"
    (state / "conf").mkdir(parents=True)
    shutil.copy(sandbox.layout.secrets_file, state / "secrets.env")
    conf = json.loads((sandbox.layout.conf / "lms.json").read_text())
    (state / "conf" / "lms.json").write_text(json.dumps({**conf, "login_rate_limit": True}))
    port = free_block(1)
    replica = subprocess.Popen([sys.executable, "-m", "chaoslib_edx.sandbox.lms", "--replica",
                                "lms-limited", "--port", str(port), "--state-dir", str(state)])
    base = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                return requests.get(f"{base}/heartbeat", timeout=2).ok
            except requests.ConnectionError:
                return False

        eventually(up, timeout=20)
        session = requests.Session()

        def attempt(account: str, password: str = "wrong") -> int:
            # The token anew each time: a successful login rotates it, as Django's does.
            token = session.get(f"{base}/csrf/api/v1/token", timeout=5).json()["csrfToken"]
            return session.post(base + LOGIN_PATH, headers={"X-CSRFToken": token}, timeout=5,
                                data={"email_or_username": account,
                                      "password": password}).status_code

        assert {attempt("learner9") for _ in range(30)} == {400}
        assert attempt("learner9", "edx") == 429          # the account's 31st
        assert attempt("learner10", "edx") == 200         # another account still signs in
        codes = [attempt(f"learner{11 + i % 50}") for i in range(68)]
        assert set(codes) == {400}                        # 100 attempts from this address
        assert attempt("learner99", "edx") == 429         # the 101st
    finally:
        replica.kill()
        replica.wait()
