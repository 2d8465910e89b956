"""The open model against a real stall: every LMS replica SIGSTOPped for 3 s under a
constant arrival rate. Arrivals keep coming on schedule, and the latency counted from their
intended start shows the stall in full (bench/stall.py puts the closed model beside it)."""

import pytest

from bench.stall import run_with_stall

RATE, STALL_S = 30, 3.0
# Late: an arrival started this long after its time although a session was free. A
# generator that waited for the stalled platform would be seconds late; 500 ms tolerates
# the generator itself being descheduled that long on a loaded 2-core machine.
LATE_MS = 500


def test_a_stall_shows_in_full_from_the_intended_start(sandbox, tmp_path) -> None:
    found = run_with_stall("open", str(sandbox.env_file), tmp_path / "open", RATE, STALL_S,
                           window_s=16, late_ms=LATE_MS)
    stall = found["stall"]
    assert stall["p99_ms"] >= 0.9 * STALL_S * 1000, found
    assert stall["p99_ms"] >= stall["service_p99_ms"]
    # The generator did not wait for the platform: every arrival of the stall was sent.
    due = found["due_in_stall"]
    assert due["due"] == RATE * int(STALL_S) and due["dropped"] == 0 and due["late"] == 0, due


def test_plain_locust_run_ends_with_its_arrival_curve(sandbox, tmp_path) -> None:
    """`locust -f open_launch.py` stops by itself once the curve's arrivals are back, long
    before its -t; every arrival of the curve is counted due."""
    import time

    from chaoslib_edx.files import SHIPPED
    from chaoslib_edx.load import launcher
    from chaoslib_edx.load.series import Series
    from chaoslib_edx.context import environment_context

    target = environment_context(str(sandbox.env_file)).platform
    started = time.monotonic()
    run = launcher.start(SHIPPED / "loadprofiles" / "open_launch.py", target.lms_url(), 120,
                         tmp_path, env={**target.load_environment(),
                                        "EDX_ARRIVALS": "0:10,3:10", "EDX_POOL": "10"})
    assert run.wait() == 0
    assert time.monotonic() - started < 40
    series = Series(run.metrics_file).refresh()
    assert series.arrivals(series.first, series.last + 1)["due"] == 30


# Drives the Dispatcher alone in its own process (Locust's gevent patching stays out of
# pytest's): worker 1 of 2 on a curve of 20 arrivals in 1 s, whose share is 10.
_SHARES = """
import json, sys, time
import gevent
from chaoslib_edx.load.openmodel import Dispatcher
from chaoslib_edx.load.shapes import ArrivalCurve

class Count:
    due = 0
    def arrival(self, _epoch, kind):
        self.due += kind == "due"

def run(origin_before_share, lead_s, known_at_begin):
    shared = {"origin": time.time() - lead_s} if origin_before_share else {}
    count = Count()
    dispatcher = Dispatcher(ArrivalCurve.parse("0:20,1:20"), 0, 2, 100, 0.1, count,
                            sessions=lambda: 1, origin=lambda: shared.get("origin"))
    gevent.sleep(0.3)  # signing in
    if not origin_before_share and known_at_begin:
        shared["origin"] = time.time() - lead_s  # another worker began a moment before
    elif not origin_before_share:  # this one began too; the master's word comes later
        gevent.spawn_later(0.1, shared.update, origin=time.time() - lead_s)
    gevent.spawn(lambda: [dispatcher.take() for _ in iter(int, 1)])
    dispatcher.start(0)
    dispatcher.greenlet.join()
    return count.due

print(json.dumps({"began after another": run(False, 0.3, True),
                  "corrected later": run(False, 0.3, False),
                  "joined a running schedule": run(True, 0.3, True)}))
"""


@pytest.mark.integration
def test_a_share_assigned_before_the_schedule_owns_every_arrival_of_it() -> None:
    """A worker that began a moment after another (or before the master's origin reached
    it) releases its whole share, late; one that joined a running schedule takes its share
    from its joining on: the earlier arrivals were the other workers'."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _SHARES], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    due = json.loads(out)
    assert due["began after another"] == 10 and due["corrected later"] == 10, due
    assert 2 <= due["joined a running schedule"] <= 4, due  # its share from +0.6 s on
