"""The open model for Locust: learner actions arrive at target times, whether or not the
earlier ones came back, and each request's latency counts from its action's intended start.

Locust is closed-model (a user waits for its response before its next task), so a stalled
platform slows the generator down and hides its own tail (coordinated omission; Locust
has no arrival-rate executor, locust#2697). Here the users are a bounded pool of signed-in
sessions. A dispatcher greenlet per process releases arrivals on the schedule of an
ArrivalCurve; an idle session takes the next one as its wait and runs one task (one learner
action: one or more requests, a re-login included). Each request's latency is also counted
from its action's intended start to its response (as wrk2 corrects it; an action's later
requests include the earlier ones: what the learner waited for). Each arrival is counted as due,
and as one of: waited (every session was busy at its time: the platform's slowness filled
the pool, and the wait is in its latency), late (a session was free, yet it started more
than --edx-late-ms after its time: the generator itself lagged) or dropped (the backlog
waiting for a session, BACKLOG_S of the peak rate, was full: never sent), in the metrics
file's version-2 fields. The schedule starts once every session of the pool has signed in.
In distributed mode worker k of n takes arrivals k, k+n, ...: the master assigns k and n
(load.membership) by join order, and again whenever its workers change, so the rate splits
evenly over the workers there are (--edx-arrival-workers n is the count until it does). The
first worker's start is the schedule's origin for all: one that joins later takes its share
from where the run's curve is, not from the curve's beginning.

    class OpenLearner(OpenUser, course_launch.Learner): ...
    class Shape(OpenShape): ...
"""

import logging
import math
import sys
import time
from collections.abc import Callable

import gevent
from gevent.queue import Queue
from locust import LoadTestShape, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from chaoslib_edx.load import plugin
from chaoslib_edx.load.shapes import (
    BACKLOG_S,
    LATE_MS,
    POOL_S,
    READY_TIMEOUT_S,
    SPAWN_RATE,
    ArrivalCurve,
)

DRAIN_S = 10.0  # after the curve, how long its last actions may take to come back


class Dispatcher:
    """Releases this process's share of the curve's arrivals into a bounded backlog."""

    def __init__(self, curve: ArrivalCurve, index: int, count: int, backlog: int,
                 late_s: float, recorder, done: Callable[[], None] = lambda: None,
                 sessions: Callable[[], int] = lambda: 0,
                 origin: Callable[[], float | None] = lambda: None,
                 began: Callable[[float], None] = lambda _origin: None) -> None:
        self.curve, self.index, self.count, self.done = curve, index, count, done
        self.sessions = sessions  # this process's sessions now: its share of the pool
        self.origin, self.began = origin, began  # the run's schedule origin (epoch), shared
        self.queue: Queue = Queue()
        self.backlog, self.late_s, self.recorder = backlog, late_s, recorder
        self.epoch_offset = 0.0  # time.time() - time.monotonic(), fixed at the start
        self.greenlet: gevent.Greenlet | None = None
        self.idle = 0  # sessions blocked in take(), some about to get a released arrival
        self.shared_at = time.monotonic()  # when this share (index, count) was assigned

    def start(self, ready_s: float) -> None:
        """Run the schedule once this process's sessions have signed in, or after READY_S."""
        if self.greenlet is None:
            self.greenlet = gevent.spawn(self._run, ready_s)

    def _run(self, ready_s: float) -> None:
        # A pool still signing in would make the first arrivals wait for it.
        deadline = time.monotonic() + ready_s
        while (not self.sessions() or self.idle < self.sessions()) and \
                time.monotonic() < deadline:
            gevent.sleep(0.05)
        logging.getLogger("openmodel").info(
            f"arrivals {self.index}, {self.index} + {self.count}, ... of "
            f"{self.curve.arrivals_until(self.curve.duration_s):.0f} to "
            f"{self.sessions()} sessions (share {self.index + 1} of {self.count})")
        self.epoch_offset = time.time() - time.monotonic()
        if (origin := self.origin()) is None:  # the first to begin: the schedule starts now
            self.began(anchor := time.time())
        else:
            anchor = origin
        start, n = anchor - self.epoch_offset, self.index
        skip_to = self._joined(start)
        while True:
            if (origin := self.origin()) not in (None, anchor):  # the master's, come later
                anchor, start = origin, origin - self.epoch_offset
                skip_to = self._joined(start)
            n, skip_to = self._next(n, skip_to), 0.0
            if (due := self.curve.time_of(n)) is None:
                break
            at = start + due
            delay = at - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            self._release(at)
            n += 1
        # The curve has ended: once the last actions are back (or DRAIN_S passed), done.
        deadline = time.monotonic() + DRAIN_S
        while (self.idle < self.sessions() or self.queue.qsize()) and \
                time.monotonic() < deadline:
            gevent.sleep(0.1)
        self.done()

    def _joined(self, start: float) -> float:
        """Where this share begins on a schedule that started at START: a share assigned
        before it owns every arrival (one that began a moment after another worker is merely
        late); one that joined a running schedule takes its arrivals from now on."""
        return time.monotonic() - start if self.shared_at > start else 0.0

    def _next(self, n: int, elapsed: float) -> int:
        """This share's first arrival from N on (index, index + count, ...) due at ELAPSED
        s or later (0 but on joining: an arrival merely late is released, and counted)."""
        n += (self.index - n) % self.count
        while (due := self.curve.time_of(n)) is not None and due < elapsed:
            n += self.count
        return n

    def reshare(self, index: int, count: int) -> None:
        """The master's new share for this worker: arrivals index, index + count, ..."""
        if (index, max(1, count)) != (self.index, self.count):
            self.index, self.count = index, max(1, count)
            self.shared_at = time.monotonic()

    def _release(self, at: float) -> None:
        epoch = at + self.epoch_offset
        self.recorder.arrival(epoch, "due")
        waiting = self.queue.qsize()
        if waiting >= self.backlog:
            self.recorder.arrival(epoch, "dropped")  # counted, never skipped silently
            return
        waited = self.idle <= waiting  # every session busy: it waits for one
        if waited:
            self.recorder.arrival(epoch, "waited")
        self.queue.put((at, waited))

    def take(self) -> float:
        """Block until an arrival is due; its intended start (time.monotonic())."""
        self.idle += 1
        try:
            at, waited = self.queue.get()
        finally:
            self.idle -= 1
        late = max(0.0, time.monotonic() - at)
        if late > self.late_s and not waited:  # a session was free: the generator lagged
            self.recorder.arrival(at + self.epoch_offset, "late")
        return at


_dispatcher: Dispatcher | None = None


class OpenUser:
    """Mix in before a Locust user class: its session takes arrivals instead of waiting.
    The session's start (on_start, a sign-in) is not an arrival; its re-logins are part
    of the action that needed them."""

    intended: float | None = None  # the current action's intended start
    _started = False

    def on_start(self) -> None:
        super().on_start()
        if not self._started:
            self._started = True
            self.intended = _take()

    def wait_time(self) -> float:
        self.intended = _take()
        return 0.0

    def context(self) -> dict:
        context = super().context()
        return context if self.intended is None else {**context, "edx_intended": self.intended}


def _take() -> float:
    while _dispatcher is None:  # a worker that joined a running test: created after init
        gevent.sleep(0.05)
    return _dispatcher.take()


def pool_size(options) -> int:
    """--edx-pool, else POOL_S seconds of the peak rate (at least 10 sessions)."""
    curve = ArrivalCurve.parse(options.edx_arrivals)
    return options.edx_pool or max(10, math.ceil(curve.peak * POOL_S))


def pool_ready_s(pool: int) -> float:
    """The longest the pool may take to sign in before the schedule starts."""
    return pool / SPAWN_RATE + READY_TIMEOUT_S


class OpenShape(LoadTestShape):
    """Holds the pool of sessions while the arrival curve runs, then ends the run."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options
        pool = pool_size(options)
        duration = ArrivalCurve.parse(options.edx_arrivals).duration_s
        if plugin.run_time_over(self) or \
                self.get_run_time() >= pool_ready_s(pool) + duration + 1:
            return None
        return pool, SPAWN_RATE


@events.init_command_line_parser.add_listener
def _add_arguments(parser) -> None:
    group = parser.add_argument_group("open model (arrival rate)")
    group.add_argument("--edx-arrivals", default="0:1,60:1", env_var="EDX_ARRIVALS",
                       help="Arrivals per second over time: t:rate points joined by straight "
                            "lines, '0:5,30:5,30:10,60:10' is 5/s then 10/s.")
    group.add_argument("--edx-pool", type=int, default=0, env_var="EDX_POOL",
                       help=f"Signed-in sessions taking arrivals (default: {POOL_S:g} s of "
                            f"the peak rate); arrivals waiting for one are bounded at "
                            f"{BACKLOG_S:g} s of the peak rate (or the pool), then dropped.")
    group.add_argument("--edx-late-ms", type=float, default=LATE_MS, env_var="EDX_LATE_MS",
                       help="An action that starts later than this after its time is late.")
    group.add_argument("--edx-arrival-workers", type=int, default=1,
                       env_var="EDX_ARRIVAL_WORKERS",
                       help="Workers sharing the arrivals (distributed mode).")


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: object) -> None:
    try:  # a bad curve ends the run before anything is sent (exit 2, as bad input does)
        ArrivalCurve.parse(environment.parsed_options.edx_arrivals)
    except ValueError as exc:
        print(f"openmodel: error: --edx-arrivals: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
    if isinstance(environment.runner, MasterRunner):
        return  # the arrivals are released where the sessions are

    def create(**_kw: object) -> None:
        """The test's dispatcher: its schedule starts once this process's sessions have
        signed in (the sessions wait in _take for it)."""
        global _dispatcher
        options = environment.parsed_options  # a worker's, as the master sent them
        count = max(1, options.edx_arrival_workers)
        index, count = getattr(environment, "edx_share",  # the master's, once it sent one
                               (getattr(environment.runner, "worker_index", 0) % count, count))
        curve = ArrivalCurve.parse(options.edx_arrivals)
        backlog = max(pool_size(options), math.ceil(curve.peak * BACKLOG_S / count))
        # Standalone, the run ends with the curve; a worker's master ends it with its shape.
        done = (lambda: None) if isinstance(environment.runner, WorkerRunner) else \
            (lambda: gevent.spawn(environment.runner.quit))
        _dispatcher = Dispatcher(curve, index, count, backlog, options.edx_late_ms / 1000,
                                 environment.edx_metrics.recorder, done,
                                 sessions=lambda: environment.runner.target_user_count,
                                 origin=lambda: getattr(environment, "edx_origin", None),
                                 began=getattr(environment, "edx_began", lambda _origin: None))
        getattr(environment, "edx_on_share", []).append(_dispatcher.reshare)
        _dispatcher.start(pool_ready_s(pool_size(options)))

    plugin.on_test_start(environment, create)
