"""Replica loss on the sandbox: SIGKILL LMS processes through supervisord, which brings
them back as a ReplicaSet would."""

import random
import signal
import time

from chaoslib.types import Secrets

from chaoslib_edx.sandbox.health import http_get
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import Target


def replicas(target: Target, *, secrets: Secrets | None) -> int:
    return len(target.layout.lms_ports)


def kill(target: Target, *, secrets: Secrets | None, count: int,
         grace_period_seconds: int) -> dict:
    sup = Supervisor(target.layout)
    running = [i for i in sup.processes() if i["group"] == "lms" and i["statename"] == "RUNNING"]
    chosen = random.sample(running, min(count, len(running)))
    sig = signal.SIGKILL if grace_period_seconds == 0 else signal.SIGTERM
    for info in chosen:
        sup.signal(info["name"], sig)
    return {"killed": sorted(i["name"] for i in chosen), "pids": sorted(i["pid"] for i in chosen),
            "signal": sig.name}


def ready(target: Target, *, secrets: Secrets | None) -> bool:
    """Every replica answers its own /heartbeat (supervisord's view lags a kill)."""
    return all(http_get(f"http://127.0.0.1:{port}/heartbeat", timeout=1)[0] == 200
               for port in target.layout.lms_ports.values())


def wait_ready(target: Target, *, secrets: Secrets | None, timeout_seconds: float) -> dict:
    sup = Supervisor(target.layout)
    for info in sup.processes():
        if info["group"] == "lms" and info["statename"] in ("STOPPED", "EXITED", "FATAL"):
            sup.start(info["name"])
    deadline = time.monotonic() + timeout_seconds
    while not ready(target, secrets=secrets):
        if time.monotonic() > deadline:
            raise RuntimeError(f"LMS replicas not ready within {timeout_seconds:.0f}s")
        time.sleep(0.2)
    return {"ready": len(target.layout.lms_ports)}
