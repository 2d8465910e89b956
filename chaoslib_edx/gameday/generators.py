"""The load's Locust workers as a run sees them: remote ones must all join before the
first fault, and every worker that joins, leaves, is refused (not our locustfile or load
settings) or sends malformed reports is an event of the timeline (a worker lost mid-run
lowers the rate sent; the report says by how much, never silently).
"""

import threading
from collections.abc import Callable
from pathlib import Path

from chaoslib_edx.gameday.progress import Progress
from chaoslib_edx.load.launcher import LoadRun
from chaoslib_edx.load.workers import RemoteWorkers, WorkerLog, Workers
from chaoslib_edx.report.rundir import RunWriter

TIMELINE = ("joined", "left", "refused", "malformed")  # the worker events a run records


class Generators:
    def __init__(self, workers: Workers, path: Path, progress: Progress) -> None:
        self.workers, self.path, self.progress = workers, path, progress
        self.log: WorkerLog | None = None
        self._recorded = 0  # events of the log already in the timeline
        self._lock = threading.Lock()  # the status thread and the main thread both record

    def join(self, load: LoadRun, writer: RunWriter,
             stopped: Callable[[], bool] = lambda: False) -> None:
        """Follow LOAD's master; with remote workers, wait for all of them (until STOPPED()
        holds: a signal) or refuse the run (WorkersMissing: exit 2, no fault has run)."""
        if load.workers_file is None:  # one Locust process: no workers to follow
            return
        if isinstance(self.workers, RemoteWorkers):
            expect, timeout = self.workers.expect, self.workers.join_timeout_s
            host, port = load.master_bind
            self.progress.phase = "waiting for workers"
            self.progress.event(f"load master on {host}:{port}: waiting up to {timeout:g} s "
                                f"for {expect} workers")
            self.log = load.wait_joined(expect, timeout, file=self.path, stopped=stopped)
        else:
            self.log = WorkerLog(load.workers_file)
        self.record(writer)

    def record(self, writer: RunWriter) -> None:
        """The master's worker changes since the last call, into the timeline at the time
        the master saw them."""
        if self.log is None:
            return
        with self._lock:
            self.log.poll()
            changes, self._recorded = self.log.events[self._recorded:], len(self.log.events)
            for change in changes:
                if change.event not in TIMELINE:
                    continue  # a worker's CPU reading: the capacity report's, not an event
                writer.event(f"worker_{change.event}", t=change.t, worker=change.worker,
                             workers=change.workers, reason=change.reason or None,
                             **({"reports": change.reports, "malformed": change.malformed}
                                if change.event == "malformed" else {}))
                if change.event == "left":
                    self.progress.event(f"load: worker {change.worker} left ({change.reason}); "
                                        f"{change.workers} remain")
                elif change.event == "refused":
                    self.progress.event(f"load: worker {change.worker} REFUSED: "
                                        f"{change.reason}; its reports are not counted")
