"""The game master's hold: the next fault's wait lasts as long as the hold, and a stop
ends it at once."""

import threading
import time

from chaoslib_edx.gameday.hold import Hold


def test_a_hold_moves_the_due_time_by_the_time_held() -> None:
    hold, stop = Hold(), threading.Event()
    began = time.monotonic()
    assert hold.start("gm") and not hold.start("other") and hold.by == "gm"
    releaser = threading.Timer(0.6, hold.release)
    releaser.start()
    assert hold.wait_for(began + 0.3, stop)
    waited = time.monotonic() - began
    # Due at +0.3 s, held for 0.6 s of it: the wait ends at +0.9 s, after at most a
    # tenth's polling (half a second more for a machine busy with other test processes).
    assert 0.85 <= waited <= 0.3 + hold.total_s() + 0.6, (waited, hold.total_s())
    assert not hold.held and hold.release() is None


def test_a_stop_ends_a_held_wait() -> None:
    hold, stop = Hold(), threading.Event()
    hold.start("gm")
    threading.Timer(0.2, stop.set).start()
    began = time.monotonic()
    assert not hold.wait_for(began, stop)
    assert time.monotonic() - began < 1.0 and hold.held
