"""A plain two-route load with the metrics plugin, each request's latency also written to
$EDX_SAMPLES_DIR/<pid>.samples ("<route name>,<ms>"), so tests can check the master's
merged metrics against every raw sample of every worker."""

import os

from locust import FastHttpUser, constant_throughput, events, task

from chaoslib_edx.load import plugin  # noqa: F401  (registers the metrics plugin)

_samples = None


@events.init.add_listener
def _open(environment, **_kwargs) -> None:
    global _samples
    directory = os.environ.get("EDX_SAMPLES_DIR")
    if directory:
        _samples = open(os.path.join(directory, f"{os.getpid()}.samples"), "w", buffering=1)


@events.request.add_listener
def _sample(name: str, response_time: float, **_kwargs) -> None:
    if _samples is not None:
        _samples.write(f"{name},{response_time!r}\n")


class Learner(FastHttpUser):
    wait_time = constant_throughput(float(os.environ.get("EDX_USER_RATE", "10")))

    @task(3)
    def course(self) -> None:
        self.client.get("/courseware", name="lms: courseware")

    @task(1)
    def enrollment(self) -> None:
        self.client.get("/api/enrollment", name="api: enrollment")
