"""Zone actions: a whole availability zone goes dark at once, and comes back."""

import time
import uuid

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.lease import fenced
from chaoslib_edx.ledger import own_entry, record_rollback, settle
from chaoslib_edx.liveness import watched
from chaoslib_edx.targets import GuardrailRefused, Target, resolve
from chaoslib_edx.zone.contract import MAX_DURATION_S, MIN_DURATION_S

__all__ = ["zone_outage", "restore_zone"]

_ROLLBACK = "chaoslib_edx.zone.actions:restore_zone"


@fenced
@watched
def zone_outage(zone: str = "a", duration_seconds: int = 60,
                configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Darken a whole availability zone at once, as a power loss does: everything in it
    stops (on the sandbox SIGSTOP, so its peers' connections hang rather than close),
    then the platform's own failover must happen: the database's and the cache's nodes
    in the other zone promoted behind their endpoints, the load balancer's health checks
    marking the zone's LMS replicas down.

    AWS: the inventory's FIS template for the zone (aws:ec2:stop-instances restarting
    after the duration, an RDS failover, ElastiCache's AZ power interruption,
    aws:network:disrupt-connectivity), checked against the zone and duration_seconds;
    FIS ends it after that duration even if nothing else does. On the sandbox the zone
    stays dark until restore_zone, which the experiment runs after holding it that long.
    The rollback, restore_zone, is in the ledger first.
    """
    target = resolve("zone", zone, configuration)
    check_outage(target, duration_seconds, secrets)
    run = uuid.uuid4().hex  # names this outage where the platform keeps it (FIS tags)
    record_rollback("zone_outage", _ROLLBACK, {"zone": zone, "run": run,
                                               "since": round(time.time(), 3)}, configuration)
    return target.drive("outage", secrets, duration_seconds=duration_seconds, run=run)


def check_outage(target: Target, duration_seconds: int, secrets: Secrets | None) -> None:
    """GuardrailRefused, naming the argument, for a duration out of bounds or a zone the
    platform cannot darken as asked."""
    if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int) or \
            not MIN_DURATION_S <= duration_seconds <= MAX_DURATION_S:
        raise GuardrailRefused(
            f"{duration_seconds!r} is not a whole number of seconds in "
            f"{MIN_DURATION_S}..{MAX_DURATION_S}", field="duration_seconds")
    target.drive("check", secrets, duration_seconds=duration_seconds)


def guard_outage(target: Target, arguments: dict, secrets: Secrets | None) -> None:
    """The guardrail of zone_outage, run before the experiment (see faults.py)."""
    check_outage(target, arguments.get("duration_seconds", 60), secrets)


def live_outage(target: Target, arguments: dict, result: dict,
                secrets: Secrets | None) -> bool | None:
    """The live check of zone_outage (see faults.py): the zone is still dark."""
    return target.drive("dark", secrets)


@fenced
@watched
def restore_zone(zone: str = "a", run: str = "", since: float = 0.0,
                 configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Bring the zone back: resume everything in it (SIGCONT first on the sandbox; AWS:
    stop our FIS experiment, which restarts its instances), then fail the database and
    the cache back to their home zone once the home nodes have caught up (the database
    by GTID, a diverged node rebuilt from the current primary), so no committed write is
    lost. Without `run`, the ledger's pending entry for this zone gives it (and `since`,
    when the zone went dark: the report's findings cover that span)."""
    target = resolve("zone", zone, configuration)
    if not run:
        entry = own_entry(_ROLLBACK, configuration, zone=zone)
        run, since = (entry.arguments["run"], entry.arguments.get("since", 0.0)) \
            if entry is not None else ("", since)
    result = target.drive("restore", secrets, run=run or None, since=since or None)
    settle(_ROLLBACK, {"zone": zone, "run": run, "since": since}, configuration)
    return result
