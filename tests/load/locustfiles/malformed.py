"""A worker that passes for one of the run's generators at the wire (it sends the hello the
shipped course-launch profile would, from its settings in the environment) and then sends
reports whose buckets are garbage: a broken or hostile plugin, as its master receives it."""

from pathlib import Path

from locust import User, constant, events, task
from locust.runners import WorkerRunner

from chaoslib_edx.load import identity

PROFILE = Path(__file__).resolve().parents[3] / "loadprofiles" / "course_launch.py"


@events.init.add_listener
def _forge(environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.send_message("edx_hello", identity.digest([str(PROFILE)]))

        @environment.events.report_to_master.add_listener
        def _garbage(client_id: str, data: dict, **_kw) -> None:
            data["edx_buckets"] = {"1800000000": {"api": {"n": 50, "fail": 0, "5xx": 0,
                                                          "hist": "not a histogram"}}}


class Idle(User):
    wait_time = constant(1)

    @task
    def nothing(self) -> None:
        pass
