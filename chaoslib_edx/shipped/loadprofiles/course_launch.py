"""A course launch: learners log in, browse the catalog, enroll, study and watch video.

Runs unchanged with plain Locust (the metrics plugin comes with the import below):

    locust -f loadprofiles/course_launch.py --headless -u 20 -r 10 -t 20s \
        --host http://127.0.0.1:18000 --edx-metrics runs/metrics.jsonl

With -u the launch curve peaks at -u users and lasts -t (if given); without -u the
EDX_* variables of chaoslib_edx.load.shapes.LaunchCurve shape it and -t only bounds it. Request names are
"class: route"; the class (auth, lms, api, video) is what SLOs select.
"""

import os
import random

from locust import FastHttpUser, LoadTestShape, between, events, task

from chaoslib_edx.load import plugin  # registers the metrics plugin on import
from chaoslib_edx.load.shapes import LaunchCurve

CDN_URL = os.environ.get("EDX_CDN_URL", "http://127.0.0.1:18001").rstrip("/")
LEARNERS = int(os.environ.get("EDX_LEARNERS", "2000"))
PASSWORD = os.environ.get("EDX_LEARNER_PASSWORD", "edx")
COURSES = [f"course-v1:edX+C{i:03d}+2026" for i in range(1, int(os.environ.get("EDX_COURSES", "8")) + 1)]


class Learner(FastHttpUser):
    """One learner's session; a lost session (302 to /login) is a failure, then a re-login."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.username = f"learner{random.randint(1, LEARNERS)}"
        self.course = random.choice(COURSES)
        self.logged_in = False
        self.login()

    def login(self) -> None:
        with self.client.post("/login", data={"username": self.username, "password": PASSWORD},
                              name="auth: login", catch_response=True) as resp:
            self.logged_in = resp.status_code == 200
            if not self.logged_in:
                resp.failure(f"login failed with HTTP {resp.status_code}")

    def _as_learner(self, method: str, path: str, name: str, **kwargs: object) -> None:
        if not self.logged_in:
            self.login()
            return
        with self.client.request(method, path, name=name, allow_redirects=False,
                                 catch_response=True, **kwargs) as resp:
            if resp.status_code == 302:
                self.logged_in = False
                resp.failure("session lost (redirected to /login)")
            elif resp.status_code in (401, 403):
                self.logged_in = False

    @task(1)
    def next_learner(self) -> None:
        """Learners keep arriving all through a launch: a new one takes this seat and logs in."""
        self.on_start()

    @task(3)
    def dashboard(self) -> None:
        self._as_learner("GET", "/dashboard", "lms: dashboard")

    @task(4)
    def courseware(self) -> None:
        self._as_learner("GET", f"/courses/{self.course}/courseware", "lms: courseware")

    @task(2)
    def problem_check(self) -> None:
        self._as_learner("POST", f"/courses/{self.course}/problem/{random.randint(1, 5)}/check",
                         "lms: problem check", data={"answer": random.choice(["42", "7"])})

    @task(4)
    def catalog(self) -> None:
        self.client.get("/api/courses/v1/courses/", name="api: catalog")

    @task(2)
    def enroll(self) -> None:
        self.course = random.choice(COURSES)
        self._as_learner("POST", "/api/enrollment/v1/enrollment", "api: enrollment",
                         json={"course_details": {"course_id": self.course}})

    @task(6)
    def video(self) -> None:
        # Launch week is hot; the later weeks are a long tail the CDN has not all cached
        # (12 weeks x 6 parts per course, as chaoslib_edx.sandbox.assets lays them out).
        week = 1 if random.random() < 0.6 else random.randint(2, 12)
        part = random.randint(1, 6)
        self.client.get(f"{CDN_URL}/video/{self.course}/week{week}-{part}.mp4",
                        name="video: segment")


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


@events.init.add_listener
def _remember_requested_users(environment, **_kwargs) -> None:
    CourseLaunchShape.requested_users = environment.parsed_options.num_users
