"""Whether a game day's load is still flowing: a verdict needs it as a witness.

Without load, the SLOs show the last figures they had and a fault's effect goes unseen:
so the load's Locust processes must stay alive, its metrics must keep advancing with
requests in them, and workers must remain. Checked every second while a fault is live or
still to come; the first sign of loss is the reason the game day aborts.
"""

import time

from chaoslib_edx.load.launcher import LoadRun
from chaoslib_edx.load.series import Series
from chaoslib_edx.load.workers import WorkerLog

# The master writes a second once its workers' reports are in (held 4 s), a standalone
# Locust within a second: ten seconds without one is a load that stopped.
STALL_S = 10.0


class LoadWatch:
    def __init__(self, load: LoadRun, workers: WorkerLog | None, bound_s: float) -> None:
        # Its own reading of the metrics: the SLO watcher's Series is another thread's.
        self.load, self.series, self.workers = load, Series(load.metrics_file), workers
        self.started = time.monotonic()
        self.bound_s = bound_s  # the load's own -t: ending then is its bound, not a loss
        self.armed = False  # from the first fault to the last one's end

    def since(self) -> str:
        """Now, as '+Ns' from the load's start."""
        return f"+{time.monotonic() - self.started:.0f}s"

    def lost(self) -> str | None:
        """Why the load is not flowing, or None while it is (the workers log as its
        owner last polled it)."""
        if time.monotonic() - self.started >= self.bound_s - 1:
            return None  # the game day's own bound stops it (max_duration_s)
        for index, process in enumerate(self.load.processes):
            if process.poll() is not None:
                who = "the Locust master" if index == 0 else f"local Locust worker {index}"
                return f"{who} (pid {process.pid}) exited with code {process.returncode}"
        if self.workers is not None and self.workers.events:
            if not self.workers.joined():
                return "every worker left the load's master"
            malformed = self.workers.malformed()
            if malformed is not None:
                return malformed
        last, now = self.series.refresh().last, time.time()
        if last is None:
            return None  # the warm-up checked the load started
        if now - last > STALL_S:
            return f"no metrics for {now - last:.0f} s (the last second written: " \
                   f"{time.strftime('%H:%M:%S', time.gmtime(last))} UTC)"
        if not self.series.window(last - STALL_S + 1, last + 1).count:
            return f"no request completed in the last {STALL_S:g} s of metrics"
        return None
