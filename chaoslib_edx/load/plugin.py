"""Locust plugin: every request into per-second HDR histograms per route class.

Import it from a locustfile. Standalone, it appends JSON Lines to `--edx-metrics`. In
distributed mode each worker attaches its buckets to its report to the master
(`report_to_master`), and the master merges them (`worker_report`) and writes the file.
`--edx-max-requests` bounds the run in requests as `-t` bounds it in time. The master
also logs its workers' joins and leaves (load.membership).
"""

import atexit
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import gevent
from locust import events
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from chaoslib_edx.load import membership  # noqa: F401  (registers the workers log)
from chaoslib_edx.load.recorder import Recorder, checked_buckets, dump_buckets, write_lines

FLUSH_INTERVAL_S = 0.5
# The master holds a second back this long for worker reports (sent every 3 s); later
# data for a second already written is appended as another line for it.
MASTER_HOLD_S = 4.0
_REPORT_KEY, _ARRIVALS_KEY = "edx_buckets", "edx_arrivals"


class MetricsPlugin:
    """Owns the recorder of one Locust process and where its seconds go."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.recorder = Recorder()
        self.max_requests = environment.parsed_options.edx_max_requests
        path = environment.parsed_options.edx_metrics
        self.out: IO[str] | None = None
        if path and not isinstance(environment.runner, WorkerRunner):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.out = open(path, "a", buffering=1 << 16)
        self._flusher: gevent.Greenlet | None = None
        self.users: dict[int, int] = {}  # second -> users running, sampled in that second

    def on_request(self, request_type: str, name: str, response_time: float,
                   response_length: int, response: object = None, exception: object = None,
                   context: dict | None = None, **_kwargs: object) -> None:
        failed = exception is not None
        context = context or {}
        session = context.get("edx_session")
        if session is not None:  # a signed-in learner's request: did the session hold?
            self.recorder.tally("session", session["lost"])
        # status_code is a property on FastResponse: read it only when it is needed.
        status = (getattr(response, "status_code", 0) or 0) if failed else 200
        intended = context.get("edx_intended")  # the open model: its action's intended start
        self.recorder.record(name, response_time or 0.0, failed, status,
                             None if intended is None else (time.monotonic() - intended) * 1000)
        if self.recorder.total >= self.max_requests and self.environment.runner:
            self.max_requests = float("inf")  # quit once
            gevent.spawn(self.environment.runner.quit)

    def flush(self, final: bool = False) -> None:
        """Write finished seconds, including sampled seconds without a request: a
        second of silence during a fault is data, not a gap."""
        if self.out is None:
            return
        hold = MASTER_HOLD_S if isinstance(self.environment.runner, MasterRunner) else 1.0
        before = None if final else time.time() - hold
        buckets = self.recorder.take(before)
        arrivals = self.recorder.take_arrivals(before)
        for second in [s for s in self.users if before is None or s < before] + list(arrivals):
            buckets.setdefault(second, {})
        if buckets:
            write_lines(self.out, dict(sorted(buckets.items())),
                        {s: self.users.pop(s) for s in buckets if s in self.users}, arrivals)

    def _flush_loop(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            if self.environment.runner is not None:
                self.users.setdefault(int(time.time()), self.environment.runner.user_count)
            self.flush()

    def start(self) -> None:
        if self.out is not None and self._flusher is None:
            self._flusher = gevent.spawn(self._flush_loop)

    def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.kill()
            self._flusher = None
        self.flush(final=True)

    def close(self) -> None:
        """Last flush at interpreter exit: on the master, Locust fires `quitting` before
        `runner.quit()` collects the workers' final reports."""
        self.flush(final=True)
        if self.out is not None:
            self.out.close()
            self.out = None


@events.init_command_line_parser.add_listener
def _add_arguments(parser) -> None:
    group = parser.add_argument_group("chaostoolkit-edx metrics")
    group.add_argument("--edx-metrics", default="", env_var="EDX_METRICS_FILE",
                       help="Append per-second HDR metrics per route class to this JSONL file.")
    group.add_argument("--edx-max-requests", type=int, default=1_000_000,
                       env_var="EDX_MAX_REQUESTS",
                       help="Stop the run after this many requests (a bound besides -t).")


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: object) -> None:
    plugin = MetricsPlugin(environment)
    environment.events.request.add_listener(plugin.on_request)
    environment.edx_metrics = plugin  # what the open model counts its arrivals in

    if isinstance(environment.runner, WorkerRunner):
        @environment.events.report_to_master.add_listener
        def _attach(client_id: str, data: dict, **_kw: object) -> None:
            data[_REPORT_KEY] = dump_buckets(plugin.recorder.take())
            data[_ARRIVALS_KEY] = {str(s): c for s, c in plugin.recorder.take_arrivals().items()}
    elif isinstance(environment.runner, MasterRunner):
        @environment.events.worker_report.add_listener
        def _merge(client_id: str, data: dict, **_kw: object) -> None:
            try:  # a worker's report is untrusted input: checked, or not merged at all
                buckets = checked_buckets(data.get(_REPORT_KEY, {}))
                arrivals = {int(s): {k: int(v) for k, v in c.items()}
                            for s, c in data.get(_ARRIVALS_KEY, {}).items()}
                malformed = False
            except Exception:  # whatever the decoding of a bad report raised
                buckets, arrivals, malformed = {}, {}, True
            members = getattr(environment, "edx_membership", None)
            if members is not None:  # a run's master: its workers proved who they are
                if not members.report(client_id, malformed, data.get("edx_cpu")):
                    return
            elif malformed:
                return
            plugin.recorder.merge(buckets, arrivals)

    on_test_start(environment, lambda **_kw: plugin.start())
    environment.events.quitting.add_listener(lambda **_kw: plugin.stop())
    atexit.register(plugin.close)


def on_test_start(environment: Environment, listener: Callable[..., None]) -> None:
    """LISTENER at every test start, and at once if the test has started already: a
    worker that joins a running test spawns its users before `init` fires (locust #1730).
    Run after `init`, so the other plugins' init has been done too."""
    environment.events.test_start.add_listener(listener)
    runner = environment.runner
    if isinstance(runner, WorkerRunner) and \
            runner.worker_state in (STATE_SPAWNING, STATE_RUNNING):
        gevent.spawn(listener, environment=environment)


def run_time_over(shape: object) -> bool:
    """True once Locust's -t has passed. Shapes must check it themselves: a headless run
    with a shape waits for the shape to end before it arms -t (locust 2.47, main.py)."""
    options = getattr(shape.runner.environment, "parsed_options", None)
    run_time = getattr(options, "run_time", None)
    return bool(run_time) and shape.get_run_time() >= run_time
