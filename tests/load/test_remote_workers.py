"""Locust workers on other hosts: a master, two workers and a target server, each in its
own network namespace on a private subnet (tests/netns.py), joined by the launcher's
remote-workers mode as a game day joins workers on other machines.

The target is the test's own server (the sandbox binds 127.0.0.1 in the root namespace,
unreachable from these hosts); it counts what it served, so every request is known to
have crossed the namespaces to it. Needs root (ip netns), as CI has.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaoslib_edx.load.recorder import percentiles
from chaoslib_edx.load.series import Series
from chaoslib_edx.load.workers import WorkerLog
from tests.netns import network
from tests.sandbox.helpers import eventually

pytestmark = pytest.mark.integration
LOCUSTFILE = Path(__file__).parent / "locustfiles" / "sampled.py"
HOSTS = {"target": 10, "master": 2, "worker1": 11, "worker2": 12}
PORT, MASTER_PORT = 8080, 5557

TARGET = """
import random, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
served, lock = [0], threading.Lock()
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/served":  # the count, not counted
            body = str(served[0]).encode()
        else:
            time.sleep(random.uniform(0.001, 0.030))  # a spread of latencies to merge
            with lock:
                served[0] += 1
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
"""

# The runner's side, inside the master's host: the launcher's remote mode, the master
# bound to that host's address; prints the joins, then waits for the run to end.
DRIVER = """
import json, sys
from chaoslib_edx.load import launcher
from chaoslib_edx.load.workers import RemoteWorkers
locustfile, target, out, bind, seconds = sys.argv[1:6]
run = launcher.start(locustfile, target, int(seconds), out, users=8, spawn_rate=8,
                     workers=RemoteWorkers(expect=2, join_timeout_s=30),
                     master_bind=(bind, %d), allow_remote=True)
log = run.wait_joined(2, 30)
print(json.dumps([e.worker for e in log.events]), flush=True)
sys.exit(run.wait())
""" % MASTER_PORT


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    with network(HOSTS) as hosts:
        target = hosts["target"]
        server = subprocess.Popen(target.command(sys.executable, "-c", TARGET, target.address,
                                                 str(PORT)))
        try:
            eventually(lambda: _served(hosts) is not None, timeout=30, interval=0.2)
            yield hosts
        finally:
            server.kill()
            server.wait()


def _served(hosts) -> int | None:
    """Requests the target served, asked from the master's host (None: not listening)."""
    url = f"http://{hosts['target'].address}:{PORT}/served"
    probe = ("import urllib.request,sys;"
             "print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())")
    out = subprocess.run(hosts["master"].command(sys.executable, "-c", probe, url),
                         capture_output=True, text=True, timeout=30)
    return int(out.stdout) if out.returncode == 0 else None


def _run(hosts, out: Path, seconds: int, kill_after_s: int | None = None) -> dict:
    """One distributed run: the master (through the launcher) and two workers, each in
    its host; KILL_AFTER_S: SIGKILL worker2 once the master's metrics hold that many seconds
    of requests (polled: a busy machine kills it later, never before)."""
    samples = out / "samples"
    samples.mkdir(parents=True)
    env = {"EDX_SAMPLES_DIR": str(samples), "EDX_USER_RATE": "15"}
    target = f"http://{hosts['target'].address}:{PORT}"
    master = subprocess.Popen(hosts["master"].command(
        sys.executable, "-c", DRIVER, str(LOCUSTFILE), target, str(out / "load"),
        hosts["master"].address, str(seconds)), stdout=subprocess.PIPE, text=True,
        env={**os.environ, **env})
    workers = [subprocess.Popen(hosts[name].command(
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host",
        hosts["master"].address, "--master-port", str(MASTER_PORT)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        for name in ("worker1", "worker2")]
    try:
        joined = json.loads(master.stdout.readline() or "[]")
        killed_at = None
        if kill_after_s is not None:
            metrics = Series(out / "load" / "metrics.jsonl")
            eventually(lambda: len(metrics.refresh().seconds) >= kill_after_s,
                       timeout=seconds)
            workers[1].send_signal(signal.SIGKILL)
            killed_at = time.time()
        assert master.wait(timeout=seconds + 60) == 0
        for worker in workers:
            worker.wait(timeout=30)
    finally:
        for proc in (master, *workers):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    rows = [line.rsplit(",", 1) for path in samples.glob("*.samples")
            for line in path.read_text().splitlines()]
    per_process = [len(path.read_text().splitlines()) for path in samples.glob("*.samples")]
    return {"joined": joined, "killed_at": killed_at, "per_process": per_process,
            "samples": [(name, float(ms)) for name, ms in rows],
            "series": Series(out / "load" / "metrics.jsonl").refresh(),
            "workers": WorkerLog(out / "load" / "workers.jsonl")}


def test_workers_in_other_hosts_join_and_the_merged_metrics_are_exact(hosts, tmp_path):
    served_before = _served(hosts)
    run = _run(hosts, tmp_path, seconds=12)
    assert len(run["joined"]) == 2 and len(set(run["joined"])) == 2
    samples, series = run["samples"], run["series"]
    # Both workers sent load; the master sent none (its samples file is empty).
    assert sorted(n > 0 for n in run["per_process"]) == [False, True, True], run["per_process"]
    # Every request reached the test's target across the namespaces, none went elsewhere.
    assert _served(hosts) - served_before == len(samples) > 500
    # Exact merge: per class and in all, the master's seconds hold every worker's requests.
    start, end = series.first, series.last + 1
    for cls, name in (("lms", "lms: courseware"), ("api", "api: enrollment")):
        assert series.window(start, end, (cls,)).count == sum(1 for n, _ in samples
                                                              if n == name)
    merged = series.window(start, end)
    assert merged.count == len(samples)
    # The merged p99 is the p99 of every sample, within HDR's 3 significant digits.
    ordered = sorted(int(ms * 1000) for _, ms in samples)
    exact = ordered[math.ceil(0.99 * len(ordered)) - 1]
    got = percentiles(merged.service_hist, (99,))[99]
    assert abs(got - exact) <= exact * 0.001 + 1, (got, exact)


def test_a_worker_killed_mid_run_is_recorded_and_the_run_goes_on(hosts, tmp_path):
    run = _run(hosts, tmp_path, seconds=16, kill_after_s=5)
    log, killed_at = run["workers"], run["killed_at"]
    log.poll()
    joined = [e for e in log.events if e.event == "joined"]
    assert len(joined) == 2
    (left,) = log.left()
    assert left.reason == "missing" and left.workers == 1
    # Seen within Locust's heartbeat liveness (3 s) and our poll, not at the end.
    assert killed_at < left.t < killed_at + 8, (left.t - killed_at)
    # The run went on with the other worker: requests in the seconds after the loss.
    series = run["series"]
    after = series.window(int(left.t) + 1, series.last + 1)
    assert after.count > 0
