"""Start Locust in its own processes (standalone, a master and local workers, or a master
that workers on other hosts join at the inventory's address).

Locust monkey-patches the interpreter with gevent on import, and importing it after
boto3/chaoslib dies in ssl with a RecursionError: it never runs in the caller's process.
Every run is bounded: Locust's -t, the plugin's request cap, and a hard kill deadline.
And it dies with its starter: the kernel SIGKILLs each Locust process when the thread that
started it dies (prctl PR_SET_PDEATHSIG), and a pidfile per run in the environment's
state dir lets `recover` and `sandbox down` stop whatever a crashed run left behind, and
only that run's.
"""

import ctypes
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chaoslib_edx.load.series import Series
from chaoslib_edx.load.workers import (
    WORKERS_FILE,
    RemoteWorkers,
    WorkerLog,
    Workers,
    WorkersMissing,
)
from chaoslib_edx.ports import free_block
from chaoslib_edx.waiting import WaitTimeout, wait_until

GRACE_S = 30  # past -t, before the launcher kills what is left
PIDFILES = "load"          # <state dir>/load/<run id>.pids: each run's Locust processes
LEGACY_PIDFILE = "load.pids"  # the one pidfile of every run, before runs had their own
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_libc = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: preexec_fn only calls it


def _dies_with(parent: int, priority: int = 0) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGKILL when PARENT's starting thread dies (a parent
    already gone before the prctl took effect is caught by the ppid check) and SIGINT at
    its default, whatever the parent ignores. PRIORITY > 0 raises the child's CPU
    priority by that many nice levels where allowed (root)."""
    def arm() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # stop() quits Locust with SIGINT: a runner started where SIGINT is ignored (a
        # shell's background job, `nohup ... &`) would pass that on, and the load would
        # ignore it and be killed after the timeout, its last seconds lost.
        _libc.signal(signal.SIGINT, None)  # SIG_DFL; Python then installs its handler
        if os.getppid() != parent:
            os._exit(1)
        if priority:
            try:
                os.setpriority(os.PRIO_PROCESS, 0, -priority)
            except PermissionError:  # not root: the generator shares the CPU evenly
                pass
    return arm


def pidfile(state_dir: Path, run_id: str) -> Path:
    """Where run RUN_ID keeps the pids of its load, in the environment's STATE_DIR."""
    return state_dir / PIDFILES / f"{run_id}.pids"


def stop_recorded(state_dir: Path, spare: str | None = None) -> list[int]:
    """SIGKILL the load processes the runs in STATE_DIR recorded that are still alive (a
    crash before their parent-death signal could act, or a run of another machine's user),
    all but run SPARE's; only processes that are still Locust, so a reused pid is left
    alone. The caller holds the environment's lease, so no other run is live."""
    import psutil

    files = [state_dir / LEGACY_PIDFILE, *sorted((state_dir / PIDFILES).glob("*.pids"))]
    killed = []
    for path in files:
        if not path.exists() or path.stem == spare:
            continue
        for pid in (int(p) for p in path.read_text().split() if p.isdigit()):
            try:
                proc = psutil.Process(pid)
                if "locust" in " ".join(proc.cmdline()):
                    proc.kill()
                    killed.append(pid)
            except psutil.Error:  # gone already, or not ours to touch
                pass
        path.unlink(missing_ok=True)
    return killed


@dataclass
class LoadRun:
    """Running Locust processes and where their output goes."""

    processes: list[subprocess.Popen]
    metrics_file: Path
    stats_file: Path  # Locust's own final stats (--json-file), written after the last request
    deadline: float
    logs: list[Path] = field(default_factory=list)
    pidfile: Path | None = None
    workers_file: Path | None = None  # the master's log of workers joining and leaving
    master_bind: tuple[str, int] | None = None  # where workers join (host, port)

    @property
    def master(self) -> subprocess.Popen:
        return self.processes[0]

    def wait_warm(self, seconds: int, stopped: Callable[[], bool] = lambda: False,
                  slack_s: float = 60) -> None:
        """Return once the metrics hold SECONDS seconds of load (or STOPPED() holds);
        RuntimeError when Locust exits first or SLACK_S passes beyond SECONDS."""
        series = Series(self.metrics_file)

        def warm() -> bool:
            if self.master.poll() is not None:
                raise RuntimeError(f"the load did not start; see {self.logs[0]}")
            return stopped() or len(series.refresh().seconds) >= seconds

        try:
            wait_until(warm, timeout=seconds + slack_s, what=f"{seconds} s of load metrics",
                       interval=0.5)
        except WaitTimeout as exc:
            raise RuntimeError(f"the load did not start: {exc}; see {self.logs[0]}") from None

    def wait_joined(self, expect: int, timeout: float, *, file: Path | str | None = None,
                    stopped: Callable[[], bool] = lambda: False) -> WorkerLog:
        """The workers log once EXPECT workers have joined the master of a run started with
        workers (or STOPPED() holds); WorkersMissing (how many did, where, FILE's field)
        when TIMEOUT passes or the master gives up first: the run is refused."""
        log = WorkerLog(self.workers_file)

        def joined() -> bool:
            log.poll()
            if log.joined() >= expect or stopped():
                return True
            if self.master.poll() is not None:
                raise WaitTimeout("the master gave up")
            return False

        try:
            wait_until(joined, timeout=timeout + 2, what="workers", interval=0.25)
        except WaitTimeout:
            raise WorkersMissing(f"{log.joined()} of {expect} workers joined within "
                                 f"{timeout:g} s", self.master_bind, file) from None
        return log

    def wait(self) -> int:
        """Wait for the run to end by itself (killed at the deadline); the master's code."""
        for proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, self.deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return self.master.returncode

    def stop(self, timeout: float = 15) -> None:
        """Ask Locust to stop now, then kill. SIGINT, not SIGTERM: a headless run with a
        shape installs its SIGTERM handler only once the shape has ended, so SIGTERM kills
        it before its last metrics and summary are written; SIGINT quits it cleanly.
        Only the master gets it: it tells its workers to quit, and they end cleanly (a
        SIGINT of their own would print a KeyboardInterrupt traceback each)."""
        if self.master.poll() is None:
            self.master.send_signal(signal.SIGINT)
        end = time.monotonic() + timeout
        for proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.pidfile is not None:
            self.pidfile.unlink(missing_ok=True)


def start(locustfile: Path | str, host: str, run_time_s: int, out_dir: Path | str, *,
          users: int | None = None, spawn_rate: float | None = None, workers: Workers = 0,
          master_bind: tuple[str, int] | None = None, max_requests: int = 1_000_000,
          extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None,
          metrics_file: Path | str | None = None, allow_remote: bool = False,
          pidfile: Path | None = None, priority: int = 0) -> LoadRun:
    """Start a headless, bounded Locust run against HOST; output goes to OUT_DIR (metrics
    to METRICS_FILE, default OUT_DIR/metrics.jsonl). HOST must be on loopback unless
    ALLOW_REMOTE (a game day against the endpoints of a staging inventory). WORKERS: an
    int starts that many local workers; RemoteWorkers starts only the master, bound to
    MASTER_BIND (host, port; on loopback unless ALLOW_REMOTE), for workers started
    elsewhere, and the master gives up when they do not join in time. The processes
    die with the calling thread; their pids go to PIDFILE when given (see pidfile()).
    PRIORITY: nice levels above ours for the Locust processes (a capacity sweep's
    generator on the machine it measures, so it keeps its schedule)."""
    if not allow_remote and not host.startswith(("http://127.", "http://localhost")):
        raise ValueError(f"refusing to send load to {host}: load goes to 127.0.0.1 only")
    remote = isinstance(workers, RemoteWorkers)
    bind = master_bind if remote and master_bind else ("127.0.0.1", 0)  # 0: a free one
    if not allow_remote and not ipaddress.ip_address(bind[0]).is_loopback:
        raise ValueError(f"refusing to bind the load's master to {bind[0]}: "
                         "the sandbox's load stays on 127.0.0.1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = Path(metrics_file or out / "metrics.jsonl")
    common = ["-f", str(locustfile)]
    master = [sys.executable, "-m", "locust", *common, "--headless", "--host", host,
              "-t", f"{run_time_s}s", "--stop-timeout", "2", "--exit-code-on-error", "0",
              "--edx-metrics", str(metrics), "--edx-max-requests", str(max_requests),
              "--json-file", str(out / "locust"), "--only-summary", *extra_args]
    if users is not None:
        master += ["-u", str(users), "-r", str(spawn_rate or users)]
    worker_cmds = []
    workers_file = None
    if workers:
        bind = (bind[0], bind[1] or free_block(1))
        workers_file = out / WORKERS_FILE
        workers_file.unlink(missing_ok=True)  # this run's joins only
        expect = workers.expect if remote else workers
        master += ["--master", "--master-bind-host", bind[0], "--master-bind-port",
                   str(bind[1]), "--expect-workers", str(expect),
                   "--edx-workers-log", str(workers_file)]
        if remote:
            master += ["--expect-workers-max-wait", f"{workers.join_timeout_s:g}"]
        else:
            worker_cmds = [[sys.executable, "-m", "locust", *common, "--worker",
                            "--master-host", bind[0], "--master-port", str(bind[1]),
                            *extra_args] for _ in range(workers)]
    environ = {**os.environ, **(env or {})}
    processes, logs = [], []
    for index, cmd in enumerate([master, *worker_cmds]):
        log = out / ("locust-master.log" if index == 0 else f"locust-worker-{index}.log")
        with log.open("w") as handle:
            processes.append(subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT,
                                              env=environ, start_new_session=True,
                                              preexec_fn=_dies_with(os.getpid(), priority)))
        logs.append(log)
        if pidfile is not None:
            pidfile.parent.mkdir(parents=True, exist_ok=True)
            with pidfile.open("a") as handle:
                handle.write(f"{processes[-1].pid}\n")
    joining = workers.join_timeout_s if remote else 10 if workers else 0
    deadline = time.monotonic() + run_time_s + GRACE_S + joining
    return LoadRun(processes, metrics, out / "locust.json", deadline, logs, pidfile,
                   workers_file, bind if workers else None)
