"""What the live console costs and how fast it is: a game day with --console under heavy
load, ten viewers in Debian's Chromium (Playwright, executable_path) following it, then
the delivery latency of every change (the runner's event to the page's handler, both on
this machine's clock: p50, p95, max) and the console's CPU as a share of the runner's
(the console counts its own threads' CPU; run.json keeps both).

Prints, asserts nothing. Needs a sandbox that is up and Debian's chromium:

    .venv/bin/edx-gameday sandbox up
    .venv/bin/python bench/console.py [--users 400] [--viewers 10] [--seconds 60]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _gameday(folder: Path, users: int, seconds: int) -> Path:
    """USERS learners for SECONDS, the CDN's origin lost in the middle (a fault that
    needs no database and no cache: the load stays the LMS's)."""
    spec = {"name": "console bench",
            "environment": str(REPO / "gamedays/environments/sandbox.yaml"),
            "slo_catalog": str(REPO / "gamedays/slos.yaml"),
            "roles": {"game_master": "bench", "on_call": ["bench"]},
            "load": {"warmup_s": 10, "shape": {"baseline_users": users, "peak_users": users,
                                               "baseline_s": seconds, "spike_s": 0,
                                               "plateau_s": 0, "decay_s": 0}},
            "slos": ["lms-availability", "api-latency", "video-delivery"],
            "max_duration_s": seconds + 60,
            "timeline": [{"experiment": str(REPO / "experiments/cloudfront-origin-loss.yaml"),
                          "offset_s": seconds // 3, "observe_s": seconds // 3}]}
    path = folder / "gameday.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="console-bench-"))
    run_dir, err = folder / "run", (folder / "runner.err").open("w")
    runner = subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run",
                               str(_gameday(folder, args.users, args.seconds)), "--out",
                               str(run_dir), "--console"], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=err, text=True,
                              env={**os.environ, "EDX_LEDGER": str(folder / "ledger")})
    url = None
    while url is None and runner.poll() is None:
        found = re.search(r"observer: (http://\S+)", (folder / "runner.err").read_text())
        url = found.group(1) if found else time.sleep(0.2)
    if url is None:
        sys.exit(f"the game day ended before its console started: {folder / 'runner.err'}")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=CHROMIUM_ARGS)
        pages = []
        for index in range(args.viewers):
            page = browser.new_context().new_page()
            page.goto(url)
            page.fill("#name-input", f"viewer {index}")
            page.click("#sign-in button")
            pages.append(page)
        runner.communicate()
        latencies = [s for page in pages for s in page.evaluate("window.consoleLatencies")]
        browser.close()
    run = json.loads((run_dir / "run.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    requests = sum(r["requests"] for r in summary["routes"])
    cost = run["console"]
    ms = [s * 1000 for s in latencies]
    print(f"load: {args.users} learners, {requests / max(1, summary['duration_s']):.0f} req/s "
          f"over {summary['duration_s']} s; {args.viewers} viewers in Chromium")
    print(f"delivery, runner event -> page handler: {len(ms)} messages, p50 "
          f"{_percentile(ms, 50):.1f} ms, p95 {_percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms")
    print(f"console CPU {cost['cpu_s']:.2f} s of the runner's {cost['runner_cpu_s']:.2f} s: "
          f"{100 * cost['cpu_s'] / cost['runner_cpu_s']:.1f}%")


if __name__ == "__main__":
    main()
