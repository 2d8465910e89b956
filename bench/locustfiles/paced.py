"""Paced learners across three route classes, for the distributed benches: each user sends
BENCH_USER_RATE requests/s (0: as fast as it can). BENCH_PLUGIN=0 leaves the metrics plugin
out (the raw anchor). The master prints how many worker reports it took and the CPU it
spent handling them (Locust's own stats merge, and ours when the plugin is on)."""

import os
import time

from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.runners import MasterRunner

if os.environ.get("BENCH_PLUGIN", "1") == "1":
    from chaoslib_edx.load import plugin  # noqa: F401  (the metrics plugin, on)

PATH = os.environ.get("BENCH_PATH", "/health.txt")
RATE = float(os.environ.get("BENCH_USER_RATE", "0"))
_reports = {"count": 0, "cpu_s": 0.0}


@events.init.add_listener
def _count(environment, **_kwargs) -> None:
    """Time the master's handling of each worker report ("stats" message) in CPU time."""
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    handle = runner.handle_message

    def timed(client_id, msg) -> None:
        if msg.type != "stats":
            return handle(client_id, msg)
        start = time.process_time()
        handle(client_id, msg)
        _reports["cpu_s"] += time.process_time() - start
        _reports["count"] += 1

    runner.handle_message = timed  # a bench measuring Locust's own handler, from outside
    environment.events.quitting.add_listener(
        lambda **_kw: print(f"worker_reports={_reports['count']} "
                            f"report_cpu_s={_reports['cpu_s']:.6f}", flush=True))


class PacedUser(FastHttpUser):
    wait_time = constant_throughput(RATE) if RATE else constant(0)

    @task(3)
    def page(self) -> None:
        self.client.get(PATH, name="lms: page")

    @task(1)
    def api(self) -> None:
        self.client.get(PATH, name="api: call")

    @task(1)
    def video(self) -> None:
        self.client.get(PATH, name="video: segment")
