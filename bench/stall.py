"""Coordinated omission, measured: a stall of every LMS replica (SIGSTOP, then SIGCONT) under
the open model and under the closed one, against the truth (the stall's length).

At a constant rate R with a pool of at least R x the stall, the open model keeps sending
during the stall and counts each request's latency from its intended start. Two windows:
W around the stall (30 s: there the stalled requests are about a tenth, so the truth's
p99 is the stall minus W/100 seconds, 2.7 s for 3 s), and the stall window, from its start
to 2 s after its end (the seconds its requests complete in: metrics are filed by the
second a response came). The closed model's users wait on their one request each and send
nothing else meanwhile: the requests they would have sent are missing from its histogram.

    .venv/bin/python bench/stall.py [--rate 40] [--stall 3] [--window 30]

Needs a running sandbox (`edx-gameday sandbox up`). Prints; asserts nothing.
"""

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from chaoslib_edx.files import SHIPPED
from chaoslib_edx.load import launcher
from chaoslib_edx.load.recorder import percentiles
from chaoslib_edx.load.series import Series
from chaoslib_edx.load.shapes import LaunchCurve
from chaoslib_edx.context import environment_context
from chaoslib_edx.sandbox.supervisor import Supervisor

PROFILES = SHIPPED / "loadprofiles"
USERS_PER_RATE = 1.4  # closed learners per action/s: a 1.25 s think time plus the service


def _lms_pids(target) -> list[int]:
    return [i["pid"] for i in Supervisor(target.layout).processes()
            if i["group"] == "lms" and i["pid"]]


def run_with_stall(model: str, env_file: str, out: Path, rate: float, stall_s: float,
                   window_s: float, late_ms: float | None = None) -> dict:
    """One run of MODEL ("open" or "closed") with the stall in the middle of its window:
    per window ("window", "stall") its requests and p99 (ms) from the intended start and
    of the service time; and the open model's arrivals due during the stall (late: started
    more than LATE_MS, default the load's, after their time with a session free)."""
    target = environment_context(env_file).platform
    run_s = int(window_s + 12)
    env = target.load_environment()
    if late_ms is not None:
        env["EDX_LATE_MS"] = f"{late_ms:g}"
    pids = launcher.pidfile(target.state_dir(), f"bench-{os.getpid()}")  # for `recover`
    if model == "open":
        env.update(EDX_ARRIVALS=f"0:{rate:g},{run_s:g}:{rate:g}",
                   EDX_POOL=str(int(rate * max(3.0, stall_s) + 10)))
        load = launcher.start(PROFILES / "open_launch.py", target.lms_url(), run_s + 20, out,
                              env=env, pidfile=pids, priority=5)
    else:
        users = round(rate * USERS_PER_RATE)
        flat = {"baseline_users": users, "peak_users": users, "baseline_s": run_s,
                "spike_s": 0, "plateau_s": 0, "decay_s": 0, "time_scale": 1}
        env.update({LaunchCurve.ENV[k]: str(v) for k, v in flat.items()})
        load = launcher.start(PROFILES / "course_launch.py", target.lms_url(), run_s, out,
                              env=env, pidfile=pids, priority=5)
    try:
        series = Series(load.metrics_file)
        deadline = time.monotonic() + 60
        while not any(s.arrivals or (model == "closed" and s.classes)
                      for s in series.refresh().seconds.values()):
            if time.monotonic() > deadline or load.master.poll() is not None:
                raise RuntimeError(f"the {model} load did not start; see {load.logs[0]}")
            time.sleep(0.2)
        time.sleep((window_s - stall_s) / 2 + 2)
        pids = _lms_pids(target)
        stall_start = time.time()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(stall_s)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        time.sleep((window_s - stall_s) / 2 + 3)
    finally:
        load.stop()
    series = Series(load.metrics_file).refresh()
    start = int(stall_start - (window_s - stall_s) / 2)
    found = {}
    for name, (lo, hi) in {"window": (start, start + int(window_s)),
                           "stall": (int(stall_start), int(stall_start + stall_s) + 2)}.items():
        stats = series.window(lo, hi)
        found[name] = {"requests": stats.count,
                       "p99_ms": percentiles(stats.hist, [99])[99] / 1000,
                       "service_p99_ms": percentiles(stats.service_hist, [99])[99] / 1000}
    found["due_in_stall"] = series.arrivals(int(stall_start), int(stall_start + stall_s))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--stall", type=float, default=3)
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--env", default="gamedays/environments/sandbox.yaml")
    args = parser.parse_args()
    truth = args.stall * 1000
    with tempfile.TemporaryDirectory() as tmp:
        rows = {model: run_with_stall(model, args.env, Path(tmp) / model, args.rate, args.stall,
                                      args.window) for model in ("open", "closed")}
    print(f"stall of every LMS replica: {args.stall:g} s at {args.rate:g} actions/s "
          f"(truth: {truth:.0f} ms)")
    print(f"{'window':<16}{'model':<38}{'requests':>9}{'p99 ms':>8}{'/ truth':>8}")
    for window, label in (("window", f"{args.window:g} s around"), ("stall", "the stall")):
        for name, model, key in (("open, from the intended start", "open", "p99_ms"),
                                 ("open, service time only", "open", "service_p99_ms"),
                                 ("closed (Locust's own)", "closed", "p99_ms")):
            row = rows[model][window]
            print(f"{label:<16}{name:<38}{row['requests']:>9}{row[key]:>8.0f}"
                  f"{row[key] / truth:>8.2f}")


if __name__ == "__main__":
    sys.exit(main())
