"""Terminal progress for a game day: events as lines, a status line with the live SLOs.

On a terminal the status line redraws every second; in CI logs (not a TTY) it is printed
as a line every LOG_EVERY_S so the log shows the run's course without flooding.
"""

import sys
import threading
import time
from typing import TextIO

LOG_EVERY_S = 10.0


def _reading(value: float | None, kind: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}ms" if kind == "latency" else f"{value * 100:.2f}%"


class Progress:
    def __init__(self, kinds: dict[str, str], stream: TextIO = sys.stderr) -> None:
        self.kinds = kinds            # slo name -> availability | latency
        self.stream = stream
        self.tty = stream.isatty()
        self.phase = "preflight"
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._last_log = 0.0
        self._drawn = False

    def event(self, message: str) -> None:
        """A line for something that happened (experiment start, abort, report)."""
        with self._lock:
            self._clear()
            self.stream.write(f"[{self._clock()}] {message}\n")
            self.stream.flush()

    def status(self, current: dict[str, dict], rate: float) -> None:
        """The phase and the SLOs over the last seconds (once there are any); rate-limited
        off a terminal."""
        now = time.monotonic()
        if not current or not self.tty and now - self._last_log < LOG_EVERY_S:
            return
        self._last_log = now
        slos = "  ".join(
            f"{name} {_reading(v['value'], self.kinds[name])}"
            f"{' BREACH' if v['total'] and not v['met'] else ''}" for name, v in current.items())
        line = f"[{self._clock()}] {self.phase} | {rate:.0f} req/s | {slos}"
        with self._lock:
            if self.tty:
                self.stream.write("\r\x1b[2K" + line[:200])
                self._drawn = True
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self._drawn = False

    def _clock(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        return f"{elapsed // 60:02d}:{elapsed % 60:02d}"
