"""Locust plugin, both sides: workers prove who they are, and the master logs who joined,
who left, who was refused and whose reports were malformed, to `--edx-workers-log`.

A worker sends its hello (load.identity) as soon as it connects; the master counts it as
joined only once the hello matches its own, and refuses (sends home) one whose hello
differs or never comes: its reports are never merged. The master assigns the arrival
shares of the open model (worker k of n, by join order) and sends them again whenever its
workers change, with the schedule's origin: the time the first worker's arrivals began,
which a worker that joins later keeps to (its curve is the run's, not one of its own).
Locust fires no event when a worker quits or goes missing (its heartbeats stop), so the
master's worker table is polled. The runner reads the log
(load.workers.WorkerLog); polling stops, after a last look, when the test starts stopping,
so the workers the master sends home at the end are not counted as lost.
"""

import json
import time

import gevent
import psutil
from locust import events
from locust.env import Environment
from locust.runners import STATE_MISSING, STATE_RUNNING, MasterRunner, WorkerRunner

from chaoslib_edx.load import identity

POLL_S = 0.5
HELLO_S = 10.0   # a worker that has not said hello by then is not one of ours
HELLO, SHARE, ORIGIN = "edx_hello", "edx_share", "edx_origin"


class Membership:
    """The master's workers as last seen, and the log their changes go to."""

    def __init__(self, runner: MasterRunner, path: str, expected: dict) -> None:
        self.runner, self.expected = runner, expected
        self.out = open(path, "a", buffering=1)  # a line each, read while the run goes on
        self.live: list[str] = []            # verified workers connected, in join order
        self.verified: set[str] = set()
        self.refused: set[str] = set()
        self.seen: dict[str, float] = {}     # connected, not yet verified: since when
        self.reports: dict[str, int] = {}    # per worker: reports, and malformed ones
        self.malformed: dict[str, int] = {}
        self.origin: float | None = None     # epoch of the schedule's start, once known
        runner.register_message(HELLO, self.on_hello)
        runner.register_message(ORIGIN, self.on_origin)
        self._poller = gevent.spawn(self._loop)

    def _write(self, event: str, worker: str, **fields: object) -> None:
        if self.out.closed:  # a last report after the test stopped: nothing left to log
            return
        line = {"t": time.time(), "event": event, "worker": worker, "workers": len(self.live),
                **{k: v for k, v in fields.items() if v not in (None, "")}}
        self.out.write(json.dumps(line) + "\n")

    def on_hello(self, environment: Environment, msg: object, **_kw: object) -> None:
        worker = msg.node_id
        if worker in self.verified or worker in self.refused:
            return
        why = identity.mismatch(self.expected, msg.data)
        if why is not None:
            self._refuse(worker, why)
        else:
            self.verified.add(worker)
            self.poll()

    def on_origin(self, environment: Environment, msg: object, **_kw: object) -> None:
        """A worker's schedule began: the first to say so sets the run's origin."""
        if self.origin is None and msg.node_id in self.verified:
            self.origin = float(msg.data["origin"])
            self._share()

    def _refuse(self, worker: str, why: str) -> None:
        self.refused.add(worker)
        self.seen.pop(worker, None)
        self._write("refused", worker, reason=why)
        self._forget(worker)
        self.runner.send_message("quit", client_id=worker)  # Locust's own: it goes home

    def _forget(self, worker: str) -> None:
        """Drop WORKER from the master's tables as Locust does when a worker quits, before
        it is sent home: its going home is then no "last worker quit" (which ends a
        headless run: a foreign worker must not stop ours), and no user goes to it.
        Locust has no call for this: its own quit handling (runners.py) does the same."""
        client = self.runner.clients.get(worker)
        if client is None:
            return
        del self.runner.clients[worker]
        dispatcher = self.runner._users_dispatcher
        if dispatcher is not None:
            dispatcher.remove_worker(client)
            if not dispatcher.dispatch_in_progress and self.runner.state == STATE_RUNNING:
                self.runner.start(self.runner.target_user_count, self.runner.spawn_rate)

    def report(self, worker: str, malformed: bool, cpu: object) -> bool:
        """Count a report of WORKER (and log the CPU it measured itself); whether it may
        be merged: a verified worker's, well formed."""
        if worker not in self.verified:
            return False
        self.reports[worker] = self.reports.get(worker, 0) + 1
        if malformed:
            self.malformed[worker] = self.malformed.get(worker, 0) + 1
            self._write("malformed", worker, reports=self.reports[worker],
                        malformed=self.malformed[worker])
        elif isinstance(cpu, (int, float)) and not isinstance(cpu, bool):
            self._write("cpu", worker, cpu=round(float(cpu), 1))
        return not malformed

    def poll(self) -> None:
        clients = self.runner.clients
        now = {c.id for c in clients.all if c.state != STATE_MISSING}
        changed = False
        for worker in sorted(now - set(self.live) - self.refused):
            if worker in self.verified:
                self.live.append(worker)
                self._write("joined", worker)
                changed = True
            elif time.monotonic() - self.seen.setdefault(worker, time.monotonic()) > HELLO_S:
                self._refuse(worker, f"it said no hello within {HELLO_S:g} s: not our "
                                     "load plugin")
        for worker in [w for w in self.live if w not in now]:
            self.live.remove(worker)
            self._write("left", worker, reason="missing" if worker in clients else "quit")
            changed = True
        if changed:
            self._share()

    def _share(self) -> None:
        """Each verified worker's share of the arrivals: k of n, by join order."""
        for index, worker in enumerate(self.live):
            self.runner.send_message(SHARE, {"index": index, "count": len(self.live),
                                             "origin": self.origin}, client_id=worker)

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
                        help="Master: append each worker's join, leave and refusal to this "
                             "JSONL file (workers must prove they run this locustfile).")


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: object) -> None:
    options = environment.parsed_options
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        environment.edx_on_share = []  # what follows the master's shares (the open model)

        def _share(environment: Environment, msg: object, **_kw: object) -> None:
            environment.edx_share = (msg.data["index"], msg.data["count"])
            environment.edx_origin = msg.data.get("origin")
            for listener in environment.edx_on_share:
                listener(*environment.edx_share)

        runner.register_message(SHARE, _share)
        environment.edx_began = lambda origin: runner.send_message(ORIGIN, {"origin": origin})
        runner.send_message(HELLO, identity.digest(environment.parsed_locustfiles))
        process, first = psutil.Process(), {"report": True}
        process.cpu_percent()  # a baseline

        @environment.events.report_to_master.add_listener
        def _cpu(client_id: str, data: dict, **_kw: object) -> None:
            # The generator-bound rule's own reading; the first one spans the start-up.
            reading = process.cpu_percent()
            data["edx_cpu"] = None if first.pop("report", False) else reading
        return
    path = options.edx_workers_log if options else ""
    if path and isinstance(runner, MasterRunner):
        membership = Membership(runner, path, identity.digest(environment.parsed_locustfiles))
        environment.edx_membership = membership  # the metrics plugin asks it per report
        environment.events.test_stopping.add_listener(lambda **_kw: membership.stop())
        environment.events.quitting.add_listener(lambda **_kw: membership.stop())
