"""The alerts firing and the pages, read from the platform's monitoring every few seconds
for the console (the report reads the same source once, at the end)."""

import threading
import time
from dataclasses import asdict

from chaoslib_edx.console.live import Live
from chaoslib_edx.detection.source import DetectionSource

EVERY_S = 5.0
STILL_FIRING_S = 30.0  # a firing whose last sample is this recent is still firing


class Monitor(threading.Thread):
    def __init__(self, live: Live, source: DetectionSource | None, since: float) -> None:
        super().__init__(name="console-monitor", daemon=True)
        self.live, self.source, self.since = live, source, since
        self._halt = threading.Event()
        self.cpu_s = 0.0  # its reads of the monitoring (its own thread)

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        if self.source is None:
            self.live.monitor(None, [], [])
            return
        while True:
            now = time.time()
            started = time.thread_time()
            try:
                firings = self.source.firings(self.since, now)
                pages = self.source.pages(self.since, now)
                self.live.monitor(self.source.name,
                                  [asdict(f) for f in firings if f.end >= now - STILL_FIRING_S],
                                  [asdict(p) for p in pages])
            except Exception as exc:  # the console says so; the run goes on
                self.live.monitor(self.source.name, [], [], f"{type(exc).__name__}: {exc}"[:300])
            self.cpu_s += time.thread_time() - started
            if self._halt.wait(EVERY_S):
                return
