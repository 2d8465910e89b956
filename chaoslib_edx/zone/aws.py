"""A zone outage on AWS: the inventory's FIS experiment template for the zone, AWS's own
"AZ Availability: Power Interruption" scenario as chaosaws builds it (its instances, the
EKS nodes, stopped with aws:ec2:stop-instances and restarted after the duration; an RDS
failover; ElastiCache's AZ power interruption; aws:network:disrupt-connectivity on its
subnets), started, watched and stopped through chaoslib_edx.fis.

Not chaosaws's start_availability_zone_power_interruption_scenario: it creates the
template and an IAM role on the fly, where a staging account has a reviewed template and
a least-privilege role. FIS itself accepts any template, so that the template darkens the
experiment's zone and for its duration is checked here, before anything starts."""

import re

from chaoslib.types import Secrets

from chaoslib_edx import fis
from chaoslib_edx.fis import STOP_WAIT_S  # noqa: F401  (the rollback's bound counts it)
from chaoslib_edx.targets import GuardrailRefused, Target
from chaoslib_edx.zone.contract import AwsZone, OutageResult, ZoneRestoreResult

STOP_INSTANCES = "aws:ec2:stop-instances"
NETWORK = "aws:network:disrupt-connectivity"
CACHE = ("aws:elasticache:replicationgroup-interrupt-az-power",
         "aws:elasticache:interrupt-cluster-az-power")  # FIS's id, and its older one
DATABASE = ("aws:rds:failover-db-cluster", "aws:rds:reboot-db-instances")
# Each action the scenario needs: which of its parameters holds the outage's duration.
DURATIONS = {STOP_INSTANCES: "startInstancesAfterDuration", NETWORK: "duration",
             **{action: "duration" for action in CACHE}}
# Where a template target pins its resources to a zone: a filter's path, or a parameter.
ZONE_FILTERS = ("Placement.AvailabilityZone", "AvailabilityZone")
ZONE_PARAMETERS = ("availabilityZoneIdentifier", "writerAvailabilityZoneIdentifiers")
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def _seconds(duration: str) -> int | None:
    """An ISO 8601 duration as FIS writes them (PT10M, PT1H30M, PT90S) in seconds."""
    found = _DURATION.match(str(duration))
    if found is None or not any(found.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def _zones(template: dict, action: dict) -> set[str]:
    """The zones the targets of ACTION are pinned to (empty: some target is not pinned)."""
    zones: set[str] = set()
    for key in action.get("targets", {}).values():
        target = template.get("targets", {}).get(key, {})
        pinned = [value for f in target.get("filters", []) if f.get("path") in ZONE_FILTERS
                  for value in f.get("values", [])]
        pinned += [value for name in ZONE_PARAMETERS
                   for value in str(target.get("parameters", {}).get(name, "")).split(",")
                   if value]
        if not pinned:
            return set()
        zones |= set(pinned)
    return zones


def _refuse(target: Target, message: str, fix: str) -> GuardrailRefused:
    return GuardrailRefused(f"the FIS template {target.spec.template_id} {message}",
                            file=target.env_file, field=f"aws.zones.{target.name}.template_id",
                            fix=fix)


def check(target: Target, *, secrets: Secrets | None, duration_seconds: int) -> None:
    """The template darkens exactly the inventory's zone, with every part of the scenario,
    for DURATION_SECONDS: GuardrailRefused naming what differs."""
    spec: AwsZone = target.spec
    template = fis.template(target, spec.role_arn, spec.template_id, secrets)
    actions = list(template.get("actions", {}).values())
    ids = {action.get("actionId") for action in actions}
    missing = [" or ".join(need) if isinstance(need, tuple) else need
               for need in (STOP_INSTANCES, NETWORK, CACHE, DATABASE)
               if not ids & ({need} if isinstance(need, str) else set(need))]
    if missing:
        raise _refuse(target, f"lacks {', '.join(missing)}", "Use the AZ power interruption "
                      "scenario's actions: the zone's instances stopped, the database "
                      "failed over, the cache's AZ power cut, the subnets disconnected")
    for action in actions:
        action_id = action.get("actionId")
        zones = _zones(template, action)
        pinned = action_id != DATABASE[1]  # an instance's forced failover has no zone
        if pinned and zones != {spec.availability_zone}:
            where = ", ".join(sorted(zones)) or "every zone"
            raise _refuse(target, f"has {action_id} act on {where}, not "
                          f"{spec.availability_zone} alone", f"Pin each of its targets to "
                          f"{spec.availability_zone} (a filter or a zone parameter)")
        if action_id in DURATIONS:
            took = _seconds(action.get("parameters", {}).get(DURATIONS[action_id], ""))
            if took != duration_seconds:
                raise GuardrailRefused(
                    f"{duration_seconds} s is not how long the FIS template "
                    f"{spec.template_id}'s {action_id} lasts ({took} s)",
                    field="duration_seconds",
                    fix=f"Ask for duration_seconds {took}, or change the template's "
                        f"{DURATIONS[action_id]}")
        if action_id == DATABASE[1] and \
                str(action.get("parameters", {}).get("forceFailover")).lower() != "true":
            raise _refuse(target, "reboots the database without forceFailover",
                          "Set forceFailover: 'true' (a reboot alone fails nothing over)")


def outage(target: Target, *, secrets: Secrets | None, duration_seconds: int,
           run: str) -> OutageResult:
    """Start the template (checked first) and wait until FIS says it runs; RDS and
    ElastiCache fail over by themselves (their times are theirs to report)."""
    check(target, secrets=secrets, duration_seconds=duration_seconds)
    spec: AwsZone = target.spec
    experiment_id, status = fis.start(target, spec.role_arn, spec.template_id, run, secrets)
    template = fis.template(target, spec.role_arn, spec.template_id, secrets)
    return {"zone": target.name, "experiment_id": experiment_id, "status": status,
            "dark": sorted(a.get("actionId") for a in template.get("actions", {}).values()),
            "findings": {"availability_zone": spec.availability_zone}}


def restore(target: Target, *, secrets: Secrets | None, run: str | None,
            since: float | None) -> ZoneRestoreResult:
    """Stop our live experiments on the template (FIS restarts the stopped instances)
    and wait until FIS has ended each. RDS and ElastiCache stay on the zone they failed
    over to, as they do after a real zone loss."""
    spec: AwsZone = target.spec
    stopped = fis.stop(target, spec.role_arn, spec.template_id, secrets, run)
    return {"zone": target.name, "resumed": stopped, "database_primary": None,
            "cache_primary": None, "findings": {}, "status": "restored"}


def dark(target: Target, *, secrets: Secrets | None) -> bool | None:
    """One of our experiments on the template is live (FIS ends it after its duration)."""
    spec: AwsZone = target.spec
    return next(fis.ours(target, spec.role_arn, spec.template_id, secrets, None), None) \
        is not None


def healthy(target: Target, *, secrets: Secrets | None) -> bool:
    """No outage of ours is live on the zone."""
    return not dark(target, secrets=secrets)


def write(target: Target, *, secrets: Secrets | None, key: int, token: str) -> bool | None:
    """The runner does not reach an RDS database: None (check writes with its tools)."""
    return None


def read(target: Target, *, secrets: Secrets | None,
         keys: list[int]) -> dict[int, str] | None:
    return None
