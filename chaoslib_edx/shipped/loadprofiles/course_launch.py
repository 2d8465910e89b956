"""A course launch on Open edX: learners sign in, enroll and study, sending what a real
LMS receives, through the API the authn and learning MFEs call.

Runs unchanged with plain Locust (the metrics plugin comes with the import below):

    locust -f loadprofiles/course_launch.py --headless -u 20 -r 10 -t 20s \\
        --host http://127.0.0.1:18000 --edx-metrics runs/metrics.jsonl

With -u the launch curve peaks at -u users and lasts -t (if given); without -u the EDX_*
variables of chaoslib_edx.load.shapes.LaunchCurve shape it and -t only bounds it.
Learners: --edx-learners FILE (username,password CSV; env EDX_LEARNERS_FILE), else
learner1..EDX_LEARNERS with EDX_LEARNER_PASSWORD. Courses: EDX_COURSES of
chaoslib_edx.courses (staging: EDX_COURSE_KEYS, comma-separated).

The request mix. Share of requests on courses.edx.org over the 7 days to 2016-11-16, as
published in the docstring of edx-load-tests' loadtests/lms/locustfile.py: heartbeat
26.3%, tracking events (/event, /segmentio/event) 27.2%, XBlock handlers (module_render)
21.7%, courseware pages 4.6%, enrollment API 3.6%, course assets 2.8%, the rest under 2%
each. Among what a learner sends (the load balancer's heartbeat is not learner traffic)
that gives each learner action its share:

    learner action          share   requests
    tracking events          48%    POST /event
    XBlock handler calls     38%    POST /courses/<course>/xblock/<block>/handler/
                                        xmodule_handler/problem_check | publish_completion
    courseware unit views     8%    GET /api/courseware/sequence/<seq>, GET /xblock/<unit>,
                                        its video segment from the CDN (one view)
    enrollment calls          6%    GET /api/enrollment/v1/enrollment[/<course>],
                                        GET /api/enrollment/v1/course/<course>

On top, what a launch adds when a learner's session starts: the CSRF token, the login
(POST /api/user/v2/account/login_session/), the CSRF token again (Django's login() rotates
it; the MFE the login redirects to fetches the new one before its first POST), an
enrollment, the course home (outline and course metadata) and the first unit. As
edx-platform answers: the outline's course_blocks is {"blocks": {...}}, its root the block
of type "course"; completion on view is published for html blocks only (scored and video
blocks refuse it with 400); a problem's inputs are named by its block id. Request names
are "class: route"; the class (auth, lms, api, tracking, video) is what SLOs select.
Every request made as a signed-in learner also says whether the session held (context
`edx_session`): a page sent to /login or an API's 401/403 is a lost session, the bad
event of the session-continuity SLO.
"""

import os
import random
import re
import sys

from locust import FastHttpUser, LoadTestShape, between, events, task

from chaoslib_edx import courses
from chaoslib_edx.errors import UserError
from chaoslib_edx.load import plugin  # registers the metrics plugin on import
from chaoslib_edx.load.learners import learners_from_env, read_learners
from chaoslib_edx.load.shapes import LaunchCurve

CDN_URL = os.environ.get("EDX_CDN_URL", "http://127.0.0.1:18001").rstrip("/")
COURSE_KEYS = [key for key in os.environ.get("EDX_COURSE_KEYS", "").split(",") if key] or [
    courses.course_key(i) for i in range(1, int(os.environ.get("EDX_COURSES", "8")) + 1)]
LOGIN = "/api/user/v2/account/login_session/"
_USAGE = re.compile(r'data-usage-id="([^"]+)"')
_VIDEO = re.compile(r'<video src="([^"]+)"')
LEARNERS = []  # filled at init from --edx-learners or the environment


def _root(blocks: dict) -> str:
    """The outline's course block (upstream's CourseBlockSerializer names no root)."""
    return next(key for key, block in blocks.items() if block["type"] == "course")


def _sequences(blocks: dict, root: str) -> list[str]:
    """The outline's sequences in course order (its children lists; the map is unordered)."""
    block = blocks[root]
    if block["type"] == "sequential":
        return [root]
    return [seq for child in block.get("children", []) for seq in _sequences(blocks, child)]


class Learner(FastHttpUser):
    """One learner's session on the MFEs' API; a lost session is counted, then a re-login."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        """A session starts: sign in, enroll, open the course home and its first unit."""
        self.learner = random.choice(LEARNERS)
        self.course = random.choice(COURSE_KEYS)
        self.units: list[str] = []        # the course's units, from its sequences
        self.problems: list[str] = []     # problem blocks of the units seen so far
        self.texts: list[str] = []        # html blocks: what completes on view
        self.signed_in = False
        self.csrf = None
        with self.client.post(LOGIN, name="auth: login", catch_response=True,
                              data={"email_or_username": self.learner.username,
                                    "password": self.learner.password},
                              headers=self._headers()) as resp:
            self.signed_in = resp.status_code == 200
            if not self.signed_in:
                resp.failure(f"login failed with HTTP {resp.status_code}")
                return
        self.csrf = None  # login() rotated it: the next unsafe request fetches the new one
        self._send("POST", "/api/enrollment/v1/enrollment", "api: enroll",
                   json={"course_details": {"course_id": self.course}})
        outline = self._send("GET", f"/api/course_home/outline/{self.course}",
                             "lms: course outline")
        self._send("GET", f"/api/courseware/course/{self.course}", "lms: course metadata")
        if outline is not None:
            blocks = outline.json()["course_blocks"]["blocks"]
            self.sequences = _sequences(blocks, _root(blocks))
            self._view(self.sequences[0], first=True)

    def _headers(self) -> dict:
        """An unsafe request's CSRF header, the token fetched first when there is none
        (as frontend-platform does, once per page)."""
        if self.csrf is None:
            resp = self.client.get("/csrf/api/v1/token", name="auth: csrf token")
            self.csrf = resp.json()["csrfToken"] if resp.status_code == 200 else ""
        return {"X-CSRFToken": self.csrf, "Referer": self.host}

    def _send(self, method: str, path: str, name: str, **kwargs: object):
        """A request as the signed-in learner: the response if it succeeded, else None. A
        redirect to /login or a 401/403 loses the session (counted); the next action
        signs in again."""
        if not self.signed_in:
            self.on_start()
            return None
        verdict = {"lost": False}
        headers = self._headers() if method != "GET" else {}
        with self.client.request(method, path, name=name, allow_redirects=False,
                                 catch_response=True, headers=headers,
                                 context={"edx_session": verdict}, **kwargs) as resp:
            if resp.status_code in (401, 403) or (resp.status_code == 302 and "/login" in
                                                  (resp.headers.get("Location") or "")):
                verdict["lost"] = True
                self.signed_in = False
                resp.failure(f"session lost (HTTP {resp.status_code})")
                return None
            return resp if resp.status_code < 400 else None

    def _view(self, sequence: str, first: bool = False) -> None:
        """A unit view, as the learning MFE loads it: the sequence, the unit's iframe and
        the video segment it plays from the CDN."""
        suffix = " (session start)" if first else ""
        seq = self._send("GET", f"/api/courseware/sequence/{sequence}", f"lms: sequence{suffix}")
        if seq is None:
            return
        unit = random.choice(seq.json()["items"])["id"]
        page = self._send("GET", f"/xblock/{unit}", f"lms: unit{suffix}")
        if page is None:
            return
        blocks = _USAGE.findall(page.text)
        self.problems = [u for u in blocks if "+type@problem+" in u][:1] + self.problems[:20]
        self.texts = [u for u in blocks if "+type@html+" in u][:1] + self.texts[:20]
        for video in _VIDEO.findall(page.text):
            self.client.get(CDN_URL + video, name="video: segment")

    def _handler(self, block: str, handler: str, name: str, **kwargs: object) -> None:
        self._send("POST", f"/courses/{courses.course_of(block)}/xblock/{block}/handler/"
                   f"{handler}", name, **kwargs)

    @task(48)
    def tracking_event(self) -> None:
        event_type = random.choice(("play_video", "pause_video", "seq_goto", "problem_show",
                                    "edx.ui.lms.sequence.next_selected"))
        self._send("POST", "/event", "tracking: event",
                   data={"event_type": event_type, "event": "{}",
                         "page": f"{self.host}/learning/course/{self.course}"})

    @task(24)
    def problem_check(self) -> None:
        if not self.problems:
            return self.unit_view()
        block = random.choice(self.problems)
        self._handler(block, "xmodule_handler/problem_check", "api: problem check",
                      data={f"input_{courses.block_id(block)}_2_1": random.choice(["42", "7"])})

    @task(14)
    def publish_completion(self) -> None:
        if not self.texts:
            return self.unit_view()
        self._handler(random.choice(self.texts), "publish_completion", "api: completion",
                      json={"completion": 1.0})

    @task(8)
    def unit_view(self) -> None:
        # Launch week is hot; the later weeks are a long tail the CDN has not all cached.
        sequences = getattr(self, "sequences", None)
        if not sequences:
            self.on_start()
            return
        hot = sequences[:courses.SEQUENCES]
        self._view(random.choice(hot if random.random() < 0.6 else sequences))

    @task(2)
    def enrollments(self) -> None:
        self._send("GET", "/api/enrollment/v1/enrollment", "api: enrollments")

    @task(2)
    def enrollment(self) -> None:
        self._send("GET", f"/api/enrollment/v1/enrollment/{self.course}", "api: enrollment")

    @task(2)
    def enrollment_course(self) -> None:
        self._send("GET", f"/api/enrollment/v1/course/{self.course}", "api: enrollment course")

    @task(1)
    def next_learner(self) -> None:
        """Learners keep arriving all through a launch: a new one takes this seat."""
        self.on_start()


class CourseLaunchShape(LoadTestShape):
    """Baseline, a launch spike, a plateau and a decay (see LaunchCurve)."""

    use_common_options = True  # -u (with -t) fits the curve
    curve: LaunchCurve | None = None
    requested_users: int | None = None  # -u as given; Locust defaults it to 1 later

    def _curve(self) -> LaunchCurve:
        if self.curve is None:
            curve = LaunchCurve.from_env()
            if self.requested_users:
                run_time = self.runner.environment.parsed_options.run_time
                curve = curve.fit(run_time or curve.duration_s, self.requested_users)
            self.curve = curve
        return self.curve

    def tick(self) -> tuple[int, float] | None:
        if plugin.run_time_over(self):
            return None
        curve = self._curve()
        users = curve.users_at(self.get_run_time())
        return None if users is None else (users, curve.spawn_rate())


@events.init_command_line_parser.add_listener
def _add_arguments(parser) -> None:
    parser.add_argument("--edx-learners", default="", env_var="EDX_LEARNERS_FILE",
                        help="CSV of username,password to sign in as (default: learner1.."
                             "EDX_LEARNERS with EDX_LEARNER_PASSWORD, the sandbox's).")


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    """Read the learners before any user starts: a bad file ends the run (exit 2)."""
    CourseLaunchShape.requested_users = environment.parsed_options.num_users
    path = getattr(environment.parsed_options, "edx_learners", "")
    try:
        LEARNERS[:] = read_learners(path) if path else learners_from_env()
    except UserError as exc:  # one paragraph, and nothing is sent
        print(f"course_launch: error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
