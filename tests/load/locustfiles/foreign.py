"""A worker that is not one of the run's generators: another locustfile (with the metrics
plugin, so it says hello and reports like ours) that labels cheap /heartbeat calls as API
enrollments, fast and many. A master that merged it would judge API latency on these."""

from locust import FastHttpUser, constant_throughput, task

from chaoslib_edx.load import plugin  # noqa: F401  (registers the metrics plugin)


class Impostor(FastHttpUser):
    wait_time = constant_throughput(20)

    @task
    def heartbeat_as_an_enrollment(self) -> None:
        self.client.get("/heartbeat", name="api: enroll")
