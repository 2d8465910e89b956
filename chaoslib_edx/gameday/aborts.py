"""Stopping a game day from any thread: an abort condition, a signal, a lost lease or a
lost load. A running experiment is interrupted through SIGUSR1, which reaches the main
thread; its rollbacks and the report still run."""

import os
import signal
import threading
from collections.abc import Callable

from chaoslib_edx import lease
from chaoslib_edx.gameday.loadwatch import LoadWatch
from chaoslib_edx.gameday.progress import Progress
from chaoslib_edx.gameday.watch import Trip
from chaoslib_edx.report.rundir import RunWriter


class Aborts:
    """The game-day runner's stopping, mixed into it (it provides writer, progress and
    run_lease)."""

    writer: RunWriter
    progress: Progress
    run_lease: lease.Run
    _still_held: Callable[[], bool]

    def __init__(self) -> None:
        self.abort: Trip | None = None
        self._stop = threading.Event()
        # Main thread only: an experiment is between its start and its rollbacks.
        self.interruptible = False

    def request_abort(self, trip: Trip) -> None:
        """Stop the game day (from any thread): skip the rest of the timeline and
        interrupt a running experiment through SIGUSR1, which reaches the main thread."""
        if self.abort is not None:
            return
        self.abort = trip
        self.writer.event("abort", reason=trip.reason, condition=trip.condition,
                          second=trip.second, details=trip.details)
        self.progress.event(f"ABORT: {trip.reason}")
        self._stop.set()
        os.kill(os.getpid(), signal.SIGUSR1)

    def interrupt(self, signum: int, frame: object) -> None:
        """SIGUSR1 while an experiment runs: chaoslib's graceful exit (SystemExit 20: the
        run is marked interrupted and its rollbacks run), unless the rollbacks have begun."""
        if self.interruptible:
            raise SystemExit(20)

    def arm_interrupt(self) -> None:
        """The experiment may be interrupted from now on; at once if an abort is pending."""
        self.interruptible = True
        if self.abort is not None:
            raise SystemExit(20)

    def _lease_lost(self, reason: str = "") -> None:
        """The lease was lost (seen by the renewer's thread, a check or the preflight):
        abort at once. The run rolls back nothing: its faults are the new holder's."""
        if hasattr(self, "writer"):  # else run() aborts as it starts
            self.request_abort(Trip(f"lease lost at {self.run_lease.lost_at()}: "
                                    f"{self.run_lease.lease.lost}; its rollbacks are left to "
                                    "the environment's new holder", -1))

    def _check_load(self, watch: LoadWatch) -> None:
        """Abort when the load stopped flowing while a fault is live or still to come:
        without it, no verdict has a witness."""
        reason = watch.lost() if watch.armed else None
        # A run paused past its lease finds its load gone: the new holder's `recover`
        # killed it. The lease, checked first, is then the reason.
        if reason is not None and self._still_held():
            self.request_abort(Trip(f"load lost at {watch.since()}: {reason}", -1))

    def _on_signal(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        self.request_abort(Trip(f"interrupted by {name}", -1))

    def _wait(self, seconds: float) -> bool:
        """Sleep up to SECONDS; False when the game day was stopped meanwhile."""
        return not self._stop.wait(max(0.0, seconds))
