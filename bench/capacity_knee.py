"""How repeatable a knee is: the default capacity plan's normal sweep twice, back to back,
and the spread of the two knees ((max - min) / mean), with the first SLO to break and what
saturated each time.

    .venv/bin/python bench/capacity_knee.py [--plan capacity-enrollment-peak] [--runs 2]

Needs a running sandbox (`edx-gameday sandbox up`). Prints; asserts nothing.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="capacity-enrollment-peak")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    knees = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            out = Path(tmp) / f"run{run}"
            done = subprocess.run([sys.executable, "-m", "chaoslib_edx", "capacity", args.plan,
                                   "--sweep", "normal", "--out", str(out)],
                                  capture_output=True, text=True, timeout=900)
            if done.returncode not in (0, 1):
                sys.exit(f"run {run} failed ({done.returncode}): {done.stderr[-2000:]}")
            sweep = json.loads((out / "capacity.json").read_text())["sweeps"][0]
            brk = sweep["first_break"] or {}
            saturated = (brk.get("saturated") or {}).get("component", "-")
            knees.append(sweep["knee_rate"])
            print(f"run {run}: knee {sweep['knee_rate']} arrivals/s "
                  f"({sweep['knee_requests_per_s']} req/s); first to break: "
                  f"{', '.join(brk.get('slos', [])) or 'none'} at {brk.get('rate')}/s; "
                  f"saturated: {saturated}; generator-bound at: "
                  f"{sweep['generator_bound_rates'] or 'none'}")
    if None in knees:
        print("spread: n/a (a run found no knee)")
        return
    mean = sum(knees) / len(knees)
    print(f"knees {knees}: spread {(max(knees) - min(knees)) / mean:.1%} of their mean")


if __name__ == "__main__":
    sys.exit(main())
