"""Report rendering time and peak memory for a synthetic 1-hour run at 1,000 requests/s.

Per-second series over four route classes, two faults; prints, asserts nothing.

    .venv/bin/python bench/report_render.py
"""

import json
import random
import resource
import tempfile
import time
from pathlib import Path

from chaoslib_edx.load.recorder import Recorder, write_lines
from chaoslib_edx.report.render import render

SECONDS, RATE, T0 = 3600, 1000, 1_800_000_000


def synthetic_run(path: Path) -> None:
    rng = random.Random(7)
    (path / "journals").mkdir(parents=True)
    with (path / "metrics.jsonl").open("w") as out:
        for s in range(SECONDS):
            recorder = Recorder()
            faulty = 1200 <= s < 1500 or 2400 <= s < 2700
            for _ in range(RATE):
                failed = faulty and rng.random() < 0.02
                recorder.record(rng.choice(("auth: login", "lms: dashboard", "api: catalog",
                                            "video: segment")), rng.lognormvariate(3, 0.6),
                                failed, 503 if failed else 200)
            # Recording may straddle a wall-clock second: fold every bucket into second s.
            second: dict = {}
            for classes in recorder.take().values():
                for cls, stats in classes.items():
                    if cls in second:
                        second[cls].merge(stats)
                    else:
                        second[cls] = stats
            write_lines(out, {T0 + s: second}, {T0 + s: 200})
    events = []
    for name, start in (("rds-failover", 1200), ("lms-pod-kill", 2400)):
        events += [{"t": T0 + start, "event": "fault_start", "experiment": name},
                   {"t": T0 + start + 300, "event": "fault_end", "experiment": name}]
        (path / "journals" / f"{name}.json").write_text('{"status": "completed"}')
    (path / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (path / "run.json").write_text(json.dumps({"name": "synthetic hour", "status": "completed",
                                               "environment": "sandbox"}))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        began = time.perf_counter()
        synthetic_run(run)
        print(f"synthetic run: {SECONDS} s x {RATE} req/s written in "
              f"{time.perf_counter() - began:.1f}s "
              f"({(run / 'metrics.jsonl').stat().st_size / 2**20:.1f} MiB of metrics)")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        render(run, Path(__file__).parents[1] / "gamedays/slos.yaml")
        elapsed = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        print(f"render: {elapsed:.2f}s (target <= 5 s), peak RSS {peak / 1024:.0f} MiB "
              f"(+{(peak - before) / 1024:.0f} MiB while rendering), index.html "
              f"{(run / 'index.html').stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
