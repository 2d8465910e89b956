"""Ours (a): the same GET named by route class, recorded by the edx metrics plugin."""

import os

from locust import FastHttpUser, constant, task

from chaoslib_edx.load import plugin  # noqa: F401  (the metrics plugin, on)

PATH = os.environ.get("BENCH_PATH", "/health.txt")


class OurUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(PATH, name="video: static")
