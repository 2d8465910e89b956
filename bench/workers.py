"""Locust's distributed mode with our metrics plugin: what the master pays to merge the
workers' per-second HDR histograms, and what a second worker process adds.

(1) The master's CPU per 1,000 worker reports with 2, 4 and 8 workers, the total load held
at TOTAL_RATE: CPU time in the master's handler of each report (Locust's stats merge, and
our HDR merge when the plugin is on), so startup and idle time stay out of it. Ours
against the raw anchor (the same users, no plugin: Locust's own stats only); flat within
2x from 2 to 8 workers means the merge costs per report, not per worker. The master's
whole CPU (wait4) is printed beside it. (2) The merged request rate with 1 and 2 worker
processes running flat out against the same target. Prints, asserts nothing. Needs a
running sandbox (its CDN edge is the target): `edx-gameday sandbox up`.

    .venv/bin/python bench/workers.py [--seconds 20] [--env gamedays/environments/sandbox.yaml]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from chaoslib_edx.environment import load_environment
from chaoslib_edx.ports import free_block
from chaoslib_edx.sandbox.layout import Layout

LOCUSTFILE = Path(__file__).parent / "locustfiles" / "paced.py"
TOTAL_RATE = 300  # requests/s across all workers in part (1)


def distributed(host: str, workers: int, seconds: int, out: Path, *, plugin: bool,
                users: int, user_rate: float) -> dict:
    """One master + WORKERS local workers; the master's CPU, its reports, the requests."""
    port = free_block(1)
    env = {**os.environ, "BENCH_PLUGIN": "1" if plugin else "0",
           "BENCH_USER_RATE": str(user_rate)}
    metrics = out / f"metrics-{workers}-{int(plugin)}-{user_rate}.jsonl"
    common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    master = subprocess.Popen(
        [*common, "--headless", "--master", "--master-bind-host", "127.0.0.1",
         "--master-bind-port", str(port), "--expect-workers", str(workers), "-u", str(users),
         "-r", str(users), "-t", f"{seconds}s", "--host", host, "--only-summary",
         "--json", *(["--edx-metrics", str(metrics)] if plugin else [])],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    procs = [subprocess.Popen([*common, "--worker", "--master-host", "127.0.0.1",
                               "--master-port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env) for _ in range(workers)]
    output = master.stdout.read()
    _, status, usage = os.wait4(master.pid, 0)
    master.returncode = os.waitstatus_to_exitcode(status)
    for proc in procs:
        proc.wait(timeout=60)
    stats = json.loads(output[output.index("["):output.rindex("]") + 1])
    counted = re.search(r"worker_reports=(\d+) report_cpu_s=([\d.]+)", output)
    return {"cpu": usage.ru_utime + usage.ru_stime, "reports": int(counted.group(1)),
            "report_cpu": float(counted.group(2)),
            "requests": sum(s["num_requests"] for s in stats)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--env", default="gamedays/environments/sandbox.yaml")
    args = parser.parse_args()
    layout = Layout.from_settings(load_environment(args.env).sandbox)
    host = layout.cdn_url
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print("(1) master CPU per 1,000 worker reports, "
              f"{TOTAL_RATE} requests/s in all, {args.seconds} s each")
        print(f"{'workers':>7} {'reports':>8} {'ours ms/1k':>11} {'raw ms/1k':>10} "
              f"{'ours/raw':>9} {'ours x 2-worker':>16} {'master CPU s':>13}")
        base, costs = None, []
        for workers in (2, 4, 8):
            users = 5 * workers
            rows = {plugin: distributed(host, workers, args.seconds, out, plugin=plugin,
                                        users=users, user_rate=TOTAL_RATE / users)
                    for plugin in (False, True)}
            per = {p: 1e6 * r["report_cpu"] / r["reports"] for p, r in rows.items()}
            base = base or per[True]
            costs.append(per[True])
            print(f"{workers:>7} {rows[True]['reports']:>8} {per[True]:>11.1f} "
                  f"{per[False]:>10.1f} {per[True] / per[False]:>9.2f} "
                  f"{per[True] / base:>16.2f} {rows[True]['cpu']:>13.2f}")
        print(f"ours per report, largest / smallest from 2 to 8 workers: "
              f"{max(costs) / min(costs):.2f} (flat: within 2x)")
        print("\n(2) merged rate, flat out, one target")
        rates = {}
        for workers in (1, 2):
            run = distributed(host, workers, args.seconds, out, plugin=True, users=10,
                              user_rate=0)
            rates[workers] = run["requests"] / args.seconds
            print(f"{workers} worker process(es): {rates[workers]:>8.0f} requests/s")
        print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f} (2 cores, shared with the "
              "target and the master)")


if __name__ == "__main__":
    main()
