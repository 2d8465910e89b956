"""Replica loss on the sandbox: SIGKILL LMS processes through supervisord, which brings
them back as a ReplicaSet would; or stop some and keep them stopped (a held loss)."""

import random
import signal

from chaoslib.types import Secrets

from chaoslib_edx.pods.contract import KillResult, ReadyResult, StopResult
from chaoslib_edx.sandbox.clients import http_get
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import Target
from chaoslib_edx.waiting import wait_until


def replicas(target: Target, *, secrets: Secrets | None) -> int:
    return len(Layout.of(target).lms_ports)


def kill(target: Target, *, secrets: Secrets | None, count: int,
         grace_period_seconds: int) -> KillResult:
    sup = Supervisor(Layout.of(target))
    running = [i for i in sup.processes() if i["group"] == "lms" and i["statename"] == "RUNNING"]
    chosen = random.sample(running, min(count, len(running)))
    sig = signal.SIGKILL if grace_period_seconds == 0 else signal.SIGTERM
    for info in chosen:
        sup.signal(info["name"], sig)
    return {"killed": sorted(i["name"] for i in chosen), "signal": sig.name}


def stop(target: Target, *, secrets: Secrets | None, count: int) -> StopResult:
    """Stop COUNT running replicas through supervisord: they stay down until restored."""
    sup = Supervisor(Layout.of(target))
    running = [i for i in sup.processes() if i["group"] == "lms" and i["statename"] == "RUNNING"]
    chosen = sorted(i["name"] for i in random.sample(running, min(count, len(running))))
    for name in chosen:
        sup.stop(name)
    return {"stopped": chosen, "replicas": len(Layout.of(target).lms_ports)}


def restore(target: Target, *, secrets: Secrets | None, replicas: int,
            timeout_seconds: float) -> ReadyResult:
    """The layout fixes the count: start what is stopped, and wait until all are ready."""
    return wait_ready(target, secrets=secrets, timeout_seconds=timeout_seconds)


def running(target: Target, *, secrets: Secrets | None) -> int:
    """Replicas supervisord runs now (a stopped one is not restarted by it)."""
    return sum(1 for i in Supervisor(Layout.of(target)).processes()
               if i["group"] == "lms" and i["statename"] == "RUNNING")


def ready(target: Target, *, secrets: Secrets | None) -> bool:
    """Every replica answers its own /heartbeat (supervisord's view lags a kill)."""
    return all(http_get(f"http://127.0.0.1:{port}/heartbeat", timeout=1)[0] == 200
               for port in Layout.of(target).lms_ports.values())


def wait_ready(target: Target, *, secrets: Secrets | None,
               timeout_seconds: float) -> ReadyResult:
    sup = Supervisor(Layout.of(target))
    for info in sup.processes():
        if info["group"] == "lms" and info["statename"] in ("STOPPED", "EXITED", "FATAL"):
            sup.start(info["name"])
    wait_until(lambda: ready(target, secrets=secrets), timeout=timeout_seconds,
               what="every LMS replica answering its heartbeat", interval=0.2)
    return {"ready_replicas": len(Layout.of(target).lms_ports)}
