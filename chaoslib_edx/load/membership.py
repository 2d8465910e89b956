"""Locust plugin, master side: who joined and who left, to `--edx-workers-log` as they do.

Locust fires an event when a worker connects, none when one quits or goes missing (its
heartbeats stop: killed, or its host gone), so the master's worker table is polled. The
runner reads the log (load.workers.WorkerLog): joins gate the first fault, a leave is an
event of the game day's timeline. Polling stops, after a last look, when the test starts
stopping, so the workers the master sends home at the end are not counted as lost.
"""

import json
import time

import gevent
from locust import events
from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner

POLL_S = 0.5


class Membership:
    """The master's workers as last seen, and the log their changes go to."""

    def __init__(self, runner: MasterRunner, path: str) -> None:
        self.runner = runner
        self.out = open(path, "a", buffering=1)  # a line each, read while the run goes on
        self.live: set[str] = set()
        self._poller = gevent.spawn(self._loop)

    def _write(self, event: str, worker: str, reason: str = "") -> None:
        line = {"t": time.time(), "event": event, "worker": worker, "workers": len(self.live)}
        if reason:
            line["reason"] = reason
        self.out.write(json.dumps(line) + "\n")

    def poll(self) -> None:
        clients = self.runner.clients
        now = {c.id for c in clients.all if c.state != STATE_MISSING}
        for worker in sorted(now - self.live):
            self.live.add(worker)
            self._write("joined", worker)
        for worker in sorted(self.live - now):
            self.live.discard(worker)
            self._write("left", worker, "missing" if worker in clients else "quit")

    def _loop(self) -> None:
        while True:
            gevent.sleep(POLL_S)
            self.poll()

    def stop(self) -> None:
        if not self.out.closed:
            self._poller.kill()
            self.poll()  # a worker whose loss stopped the test is recorded
            self.out.close()


@events.init_command_line_parser.add_listener
def _add_arguments(parser) -> None:
    parser.add_argument("--edx-workers-log", default="", env_var="EDX_WORKERS_LOG",
                        help="Master: append each worker's join and leave to this JSONL file.")


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: object) -> None:
    path = environment.parsed_options.edx_workers_log if environment.parsed_options else ""
    if path and isinstance(environment.runner, MasterRunner):
        membership = Membership(environment.runner, path)
        environment.events.test_stopping.add_listener(lambda **_kw: membership.stop())
        environment.events.quitting.add_listener(lambda **_kw: membership.stop())
