"""Requests per CPU-second of the load generator, against one nginx static route.

In one run, against the sandbox CDN edge serving a cached file: (a) our route-class
user with the metrics plugin recording every request, (b) a raw FastHttpUser doing one
GET (the anchor), (c) wrk (the ceiling). CPU is the generator's user+sys time from
getrusage of the waited child. Prints ratios; asserts nothing. Needs a running sandbox
(`edx-gameday sandbox up`).

    .venv/bin/python bench/load_efficiency.py [--seconds 10] [--env gamedays/environments/sandbox.yaml]
"""

import argparse
import csv
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from chaoslib_edx.environment import load_environment
from chaoslib_edx.sandbox.layout import Layout

HERE = Path(__file__).parent
USERS = 10
RAW, OURS, WRK = ("(b) raw FastHttpUser (anchor)", "(a) ours: route class + metrics plugin",
                  "(c) wrk (ceiling)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], seconds: int) -> tuple[str, float]:
    """Run a generator to completion; (its output, its CPU seconds)."""
    before = _children_cpu()
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {result.stderr[-1500:]}")
    return result.stdout + result.stderr, _children_cpu() - before


def locust(locustfile: Path, host: str, seconds: int, out: Path) -> tuple[int, float]:
    prefix = out / locustfile.stem
    plugin_args = ["--edx-metrics", str(out / "metrics.jsonl")] if locustfile.stem == "ours" \
        else []
    _, cpu = _run([sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                   "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s", "--host", host,
                   "--csv", str(prefix), "--only-summary", *plugin_args], seconds)
    with open(f"{prefix}_stats.csv") as handle:
        total = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return int(total["Request Count"]), cpu


def wrk(url: str, seconds: int) -> tuple[int, float]:
    output, cpu = _run(["wrk", "-t1", f"-c{USERS}", f"-d{seconds}s", url], seconds)
    return int(re.search(r"(\d+) requests in", output).group(1)), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3,
                        help="Alternate anchor and ours this many times; report the median.")
    parser.add_argument("--env", default="gamedays/environments/sandbox.yaml")
    args = parser.parse_args()
    layout = Layout.from_settings(load_environment(args.env).sandbox)
    host, path = layout.cdn_url, "/health.txt"
    os.environ["BENCH_PATH"] = path
    rows: dict[str, list[tuple[int, float]]] = {RAW: [], OURS: [], WRK: []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for _ in range(args.rounds):
            rows[RAW].append(locust(HERE / "locustfiles/raw.py", host, args.seconds, out))
            rows[OURS].append(locust(HERE / "locustfiles/ours.py", host, args.seconds, out))
        rows[WRK].append(wrk(host + path, args.seconds))
    rates = {name: [n / cpu for n, cpu in runs] for name, runs in rows.items()}
    anchor = statistics.median(rates[RAW])
    print(f"{'generator':<40} {'runs':>4} {'median req/cpu-s':>17} {'x anchor':>9}")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"{name:<40} {len(values):>4} {rate:>17.0f} {rate / anchor:>9.2f}")
    ratios = [o / r for o, r in zip(rates[OURS], rates[RAW])]
    print(f"ours / anchor per round: {', '.join(f'{x:.2f}' for x in ratios)}")


if __name__ == "__main__":
    main()
