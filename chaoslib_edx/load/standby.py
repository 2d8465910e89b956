"""A remote Locust worker on standby: it waits, without exiting, until a game day's
master listens, serves that run as `locust --worker`, and waits again when the run ends.

Plain `locust --worker` gives up after 60 tries 5 s apart without a master and exits when
its run ends, so a Kubernetes Deployment of them restarts all week and sits in
CrashLoopBackOff, whose back-off (up to 5 minutes) can outlast the master's wait for its
workers. Standing by instead keeps the pods warm and the runner needs no permission
over them (the alternative, workers created per game day, would need create and delete
rights and a ledger entry to remove them after a crash).
"""

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

RETRY_S = 5.0     # between looks for a master, and after a worker's run ended
REMIND_S = 600.0  # how often a long wait says it is still waiting


def master_listening(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts connections at HOST:PORT (a master binds it per run)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stand_by(locustfile: str, host: str, port: int, extra_args: tuple[str, ...] = (),
             say: Callable[[str], None] = print, retry_s: float = RETRY_S) -> int:
    """Serve every run whose master comes to HOST:PORT, one after another, until SIGTERM
    or SIGINT (then the running worker is stopped too); the exit code, 0."""
    stopping: list[int] = []
    worker: list[subprocess.Popen] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for process in worker:
            process.terminate()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    command = [sys.executable, "-m", "locust", "-f", locustfile, "--worker",
               "--master-host", host, "--master-port", str(port), *extra_args]
    waiting_since = None
    while not stopping:
        if not master_listening(host, port):
            now = time.monotonic()
            if waiting_since is None or now - waiting_since >= REMIND_S:
                say(f"standby: waiting for a game day's master at {host}:{port}")
                waiting_since = now
            time.sleep(retry_s)
            continue
        waiting_since = None
        say(f"standby: a master listens at {host}:{port}: joining as a worker")
        worker[:] = [subprocess.Popen(command)]
        code = worker[0].wait()
        worker.clear()
        say(f"standby: the worker ended (exit code {code}); standing by again")
        time.sleep(0 if stopping else retry_s)
    return 0
