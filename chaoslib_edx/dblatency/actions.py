"""Database-latency actions: slow the LMS's way to its database, and restore its speed."""

import uuid

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.dblatency.contract import MAX_LATENCY_MS
from chaoslib_edx.lease import fenced
from chaoslib_edx.ledger import own_entry, record_rollback, settle
from chaoslib_edx.liveness import watched
from chaoslib_edx.targets import GuardrailRefused, Target, resolve

__all__ = ["slow_database", "restore_database_speed"]

_ROLLBACK = "chaoslib_edx.dblatency.actions:restore_database_speed"


@fenced
@watched
def slow_database(database: str = "edxapp", latency_ms: int = 200, jitter_ms: int = 0,
                  configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Add latency_ms (+/- jitter_ms) to every query the LMS sends its database, on open
    connections too, without breaking any: the slow dependency that fills thread pools.

    Sandbox: the db-path proxy between the LMS and the DB endpoint holds each query.
    AWS: the inventory's FIS template (aws:eks:pod-network-latency on the LMS pods) is
    started; its delay must be the one asked for. latency_ms is 1..5000, jitter_ms at
    most latency_ms. The rollback, restore_database_speed, is in the ledger first.
    """
    target = resolve("database_latency", database, configuration)
    check_delay(target, latency_ms, jitter_ms, secrets)
    run = uuid.uuid4().hex  # names this injection where the platform keeps it (FIS tags)
    record_rollback("slow_database", _ROLLBACK, {"database": database, "run": run},
                    configuration)
    return target.drive("slow", secrets, latency_ms=latency_ms, jitter_ms=jitter_ms, run=run)


def check_delay(target: Target, latency_ms: int, jitter_ms: int,
                secrets: Secrets | None) -> None:
    """GuardrailRefused, naming the argument, for a delay out of bounds or one the
    platform cannot add exactly."""
    for field, value, low, high in (("latency_ms", latency_ms, 1, MAX_LATENCY_MS),
                                    ("jitter_ms", jitter_ms, 0, latency_ms)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise GuardrailRefused(
                f"{value!r} is not a whole number of milliseconds in {low}..{high}", field=field,
                fix=f"latency_ms is 1..{MAX_LATENCY_MS} (beyond, the LMS's database timeouts "
                    f"make it an outage, not a slowdown); jitter_ms is 0..latency_ms")
    target.drive("check", secrets, latency_ms=latency_ms, jitter_ms=jitter_ms)


def guard_slow(target: Target, arguments: dict, secrets: Secrets | None) -> None:
    """The guardrail of slow_database, run before the experiment (see faults.py)."""
    check_delay(target, arguments["latency_ms"], arguments["jitter_ms"], secrets)


def live_slow(target: Target, arguments: dict, result: dict,
              secrets: Secrets | None) -> bool:
    """The live check of slow_database (see faults.py): the delay asked for is still added."""
    return target.drive("added_latency", secrets) == arguments["latency_ms"]


@fenced
@watched
def restore_database_speed(database: str = "edxapp", run: str = "",
                           configuration: Configuration = None,
                           secrets: Secrets = None) -> dict:
    """Take the added latency away (sandbox: zero delay on the path; AWS: stop the FIS
    experiments this library started on the template). Without `run`, the ledger's
    pending entry for this database gives it; with none, every one of ours is stopped."""
    target = resolve("database_latency", database, configuration)
    if not run:
        entry = own_entry(_ROLLBACK, configuration, database=database)
        run = entry.arguments["run"] if entry is not None else ""
    result = target.drive("restore", secrets, run=run or None)
    settle(_ROLLBACK, {"database": database, "run": run}, configuration)
    return result
