"""Database latency on the sandbox: the delay of the db-path proxy that every LMS
replica's database connection goes through (it applies to open connections too). The path
keeps the delay across its restarts, with the run that set it as its owner."""

from chaoslib.types import Secrets

from chaoslib_edx import lease
from chaoslib_edx.dblatency.contract import SlowResult, SpeedResult
from chaoslib_edx.sandbox import netpath
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.targets import Target


def check(target: Target, *, secrets: Secrets | None, latency_ms: int, jitter_ms: int) -> None:
    """Any delay within the fault's bounds is the path's to add."""


def slow(target: Target, *, secrets: Secrets | None, latency_ms: int, jitter_ms: int,
         run: str) -> SlowResult:
    owner = lease.current(target.configuration)  # fault actions act under a run
    reply = netpath.control(Layout.of(target).db_path_socket,
                            {"latency_ms": latency_ms, "jitter_ms": jitter_ms,
                             "owner": {"run": owner.id, "label": owner.name} if owner else None})
    return {"latency_ms": reply["latency_ms"], "jitter_ms": reply["jitter_ms"],
            "experiment_id": None, "status": "slowed"}


def restore(target: Target, *, secrets: Secrets | None, run: str | None) -> SpeedResult:
    """Zero delay; the sandbox has one path, so RUN does not matter."""
    reply = netpath.control(Layout.of(target).db_path_socket, {"latency_ms": 0, "jitter_ms": 0})
    return {"latency_ms": reply["latency_ms"], "stopped": [], "status": "restored"}


def added_latency(target: Target, *, secrets: Secrets | None) -> int:
    return netpath.control(Layout.of(target).db_path_socket, {})["latency_ms"]
