"""What the monitoring costs the sandbox: CPU and RSS of Prometheus, Alertmanager, mtail
and the exporters as a share of all the sandbox's processes, sampled while a game day
(default: the shipped course-launch one, as `make demo` runs it) plays against it.

Prints, asserts nothing. Needs a sandbox that is up:

    .venv/bin/edx-gameday sandbox up
    .venv/bin/python bench/monitoring_overhead.py [--gameday gamedays/course-launch.yaml]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psutil

from chaoslib_edx.sandbox.control import sandbox_processes
from chaoslib_edx.sandbox.layout import layout_for
from chaoslib_edx.sandbox.supervisor import Supervisor


def monitoring_pids(layout) -> set[int]:
    """The monitoring group's programs (they have no children of their own)."""
    return {i["pid"] for i in Supervisor(layout).processes() if i["group"] == "monitoring"}


def sample(layout, cpu: dict, rss: dict) -> None:
    """Fold each live sandbox process's CPU seconds (latest) and RSS (peak) in, by pid."""
    for proc in sandbox_processes(layout):
        try:
            times = proc.cpu_times()
            cpu[proc.pid] = times.user + times.system
            rss[proc.pid] = max(rss[proc.pid], proc.memory_info().rss)
        except psutil.NoSuchProcess:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gameday", default="gamedays/course-launch.yaml")
    parser.add_argument("--env", default="gamedays/environments/sandbox.yaml")
    args = parser.parse_args()
    layout = layout_for(args.env)
    monitoring = monitoring_pids(layout)
    if not monitoring:
        sys.exit("bench: the sandbox is down or runs without monitoring; "
                 "run `edx-gameday sandbox up` first")
    start_cpu: dict = defaultdict(float)
    sample(layout, start_cpu, defaultdict(int))
    cpu: dict = defaultdict(float)
    rss: dict = defaultdict(int)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run", args.gameday,
                                "--env", args.env, "--out", str(Path(out) / "run")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while run.poll() is None:
            sample(layout, cpu, rss)
            time.sleep(2)
    seconds = time.monotonic() - began
    used = {pid: cpu[pid] - start_cpu.get(pid, 0.0) for pid in cpu}
    total_cpu, total_rss = sum(used.values()), sum(rss.values())
    mon_cpu = sum(v for pid, v in used.items() if pid in monitoring)
    mon_rss = sum(v for pid, v in rss.items() if pid in monitoring)
    print(f"game day {args.gameday}: {seconds:.0f} s (exit {run.returncode})")
    print(f"sandbox CPU   {total_cpu:8.1f} s  ({total_cpu / seconds * 100:5.1f}% of one core)")
    print(f"monitoring    {mon_cpu:8.1f} s  = {mon_cpu / total_cpu:6.1%} of the sandbox's CPU")
    print(f"sandbox RSS   {total_rss / 2**20:8.0f} MiB (sum of each process's peak)")
    print(f"monitoring    {mon_rss / 2**20:8.0f} MiB = {mon_rss / total_rss:6.1%} of it")
    for info in Supervisor(layout).processes():
        if info["pid"] in monitoring:
            pid = info["pid"]
            print(f"  {info['name']:<22} CPU {used.get(pid, 0):6.1f} s  "
                  f"RSS {rss.get(pid, 0) / 2**20:5.0f} MiB")


if __name__ == "__main__":
    main()
