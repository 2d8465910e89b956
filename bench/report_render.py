"""Report rendering time and peak memory for a synthetic run at 1,000 requests/s with two
faults: an hour by default, a day with --hours 24. Prints, asserts nothing.

The run is complete (run.json has its start and end), so the report covers every second
of it; the bench prints how many it rendered. Per-second series over four route classes;
the seconds repeat from a pool of 60 recorded ones (30 normal, 30 faulty), which keeps
writing a day of metrics to about a minute without changing what the report reads.

    .venv/bin/python bench/report_render.py             # an hour
    .venv/bin/python bench/report_render.py --hours 24  # a day
"""

import argparse
import json
import random
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from chaoslib_edx.load.recorder import Recorder, write_lines
from chaoslib_edx.report.render import render
from chaoslib_edx.report.rundir import RunDir

RATE, T0, POOL = 1000, 1_800_000_000, 30
CLASSES = ("auth: login", "lms: dashboard", "api: catalog", "video: segment")


def _second(rng: random.Random, faulty: bool) -> dict:
    """One second of RATE requests, 2% failing while a fault is live."""
    recorder = Recorder()
    for _ in range(RATE):
        failed = faulty and rng.random() < 0.02
        recorder.record(rng.choice(CLASSES), rng.lognormvariate(3, 0.6), failed,
                        503 if failed else 200)
    second: dict = {}  # recording may straddle a wall-clock second: fold into one
    for classes in recorder.take().values():
        for cls, stats in classes.items():
            if cls in second:
                second[cls].merge(stats)
            else:
                second[cls] = stats
    return second


def synthetic_run(path: Path, seconds: int) -> list[tuple[str, int]]:
    """A complete run of SECONDS into PATH; its two faults (name, start offset)."""
    rng = random.Random(7)
    normal = [_second(rng, False) for _ in range(POOL)]
    faulty = [_second(rng, True) for _ in range(POOL)]
    faults = [("rds-failover", seconds // 3), ("lms-pod-kill", 2 * seconds // 3)]
    live = [(start, start + 300) for _, start in faults]
    (path / "journals").mkdir(parents=True)
    with (path / "metrics.jsonl").open("w") as out:
        for s in range(seconds):
            pool = faulty if any(a <= s < b for a, b in live) else normal
            write_lines(out, {T0 + s: pool[s % POOL]}, {T0 + s: 200})
    events = []
    for name, start in faults:
        events += [{"t": T0 + start, "event": "fault_start", "experiment": name},
                   {"t": T0 + start + 300, "event": "fault_end", "experiment": name}]
        (path / "journals" / f"{name}.json").write_text('{"status": "completed"}')
    (path / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")

    (path / "run.json").write_text(json.dumps({
        "name": f"synthetic {seconds} s", "status": "completed", "environment": "sandbox",
        "started": iso(T0), "ended": iso(T0 + seconds)}))
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1, help="length of the run [1]")
    seconds = round(parser.parse_args().hours * 3600)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        began = time.perf_counter()
        synthetic_run(run, seconds)
        print(f"synthetic run: {seconds} s x {RATE} req/s, 2 faults, written in "
              f"{time.perf_counter() - began:.1f}s "
              f"({(run / 'metrics.jsonl').stat().st_size / 2**20:.1f} MiB of metrics)")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        render(run, Path(__file__).parents[1] / "gamedays/slos.yaml")
        elapsed = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        rendered = len(RunDir.read(run).series.seconds)
        print(f"render: {elapsed:.2f}s for {rendered} of {seconds} seconds, peak RSS "
              f"{peak / 1024:.0f} MiB (+{(peak - before) / 1024:.0f} MiB while rendering), "
              f"index.html {(run / 'index.html').stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
