"""One deadline loop for everything that waits on a platform to reach a state.

Not tenacity: its RetryError hides the last value seen, and every timeout here must say
what was awaited and where it stood, in one sentence an SRE can act on.
"""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(RuntimeError):
    """A wait ran past its deadline; the message names what and the last state seen."""


def wait_until(probe: Callable[[], T], *, timeout: float, what: str,
               until: Callable[[T], bool] = bool, interval: float = 0.1,
               max_interval: float | None = None, ignore: tuple[type[Exception], ...] = (),
               hint: str = "") -> T:
    """Call PROBE until UNTIL(its value) holds and return that value.

    The pause starts at INTERVAL and doubles up to MAX_INTERVAL (fixed when None).
    Exceptions in IGNORE count as "not yet". Past TIMEOUT seconds: WaitTimeout.
    """
    deadline, pause = time.monotonic() + timeout, interval
    while True:
        try:
            value = probe()
            if until(value):
                return value
            last: object = value
        except ignore as exc:
            last = exc
        if time.monotonic() > deadline:
            raise WaitTimeout(f"{what} not reached within {timeout:g} s (last seen: {last!s})"
                              + (f"; {hint}" if hint else ""))
        time.sleep(pause)
        if max_interval is not None:
            pause = min(max_interval, pause * 2)
