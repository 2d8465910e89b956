"""The game master's hold: the next fault waits until released while the load keeps
running. Every second held moves the rest of the timeline later by as much; the game
day's max_duration_s still counts from the load's start (a hold never extends it)."""

import threading
import time


class Hold:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None  # monotonic, while held
        self.since_epoch: float | None = None
        self.by: str | None = None
        self.past_s = 0.0                # held and released already

    @property
    def held(self) -> bool:
        return self.since is not None

    def start(self, by: str) -> bool:
        """Hold from now (False: already held)."""
        with self._lock:
            if self.since is not None:
                return False
            self.since, self.since_epoch, self.by = time.monotonic(), time.time(), by
            return True

    def release(self) -> float | None:
        """Release; how long this hold lasted (None: nothing was held)."""
        with self._lock:
            if self.since is None:
                return None
            held = time.monotonic() - self.since
            self.past_s += held
            self.since = self.since_epoch = self.by = None
            return held

    def shown(self) -> dict:
        """The hold as the console shows it."""
        return {"held": self.held, "since": self.since_epoch, "by": self.by}

    def total_s(self) -> float:
        """Seconds held so far, the current hold included."""
        with self._lock:
            return self.past_s + (time.monotonic() - self.since if self.since else 0.0)

    def wait_for(self, due: float, stop: threading.Event, step_s: float = 0.1) -> bool:
        """Wait until DUE (monotonic) plus the time held, and while held; False when STOP
        was set meanwhile. The deadline moves as holds come and go: checked every STEP_S."""
        while True:
            remaining = due + self.total_s() - time.monotonic()
            if not self.held and remaining <= 0:
                return not stop.is_set()
            if stop.wait(step_s if self.held else min(step_s, remaining)):
                return False
