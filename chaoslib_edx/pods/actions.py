"""Replica actions: kill a bounded share of LMS replicas, then wait until all are ready; or
keep some stopped (a capacity sweep's held loss), then bring them back."""

import math

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.lease import fenced
from chaoslib_edx.ledger import own_entry, record_rollback, settle
from chaoslib_edx.liveness import watched
from chaoslib_edx.targets import GuardrailRefused, Target, resolve

__all__ = ["kill_lms_replicas", "wait_lms_replicas_ready", "stop_lms_replicas",
           "restore_lms_replicas"]

_ROLLBACK = "chaoslib_edx.pods.actions:wait_lms_replicas_ready"
_RESTORE = "chaoslib_edx.pods.actions:restore_lms_replicas"


@fenced
@watched
def kill_lms_replicas(deployment: str = "lms", share: float = 0.33, count: int = 0,
                      grace_period_seconds: int = 0, configuration: Configuration = None,
                      secrets: Secrets = None) -> dict:
    """Kill a share of the LMS replicas (count wins when > 0); grace 0 is a SIGKILL.

    Never more than the environment's guardrails.max_replica_share (default 1/3) and
    never all replicas: a larger request is refused before anything is killed.
    """
    target = resolve("pods", deployment, configuration)
    wanted = planned_kill(target, share, count, secrets)
    record_rollback("kill_lms_replicas", _ROLLBACK, {"deployment": deployment}, configuration)
    return target.drive("kill", secrets, count=wanted, grace_period_seconds=grace_period_seconds)


def planned_kill(target: Target, share: float, count: int, secrets: Secrets | None) -> int:
    """How many replicas a kill takes, or GuardrailRefused when that is too many."""
    total = target.drive("replicas", secrets)
    # A share rounds to the nearest whole replica (0.33 of 6 is 2), at least one.
    wanted = count if count > 0 else max(1, math.floor(share * total + 0.5))
    limit = target.environment.guardrails.max_replica_share
    if wanted >= total or wanted / total > limit + 1e-9:
        raise GuardrailRefused(
            f"killing {wanted} of {total} '{target.name}' replicas ({wanted / total:.0%}) "
            f"exceeds the blast radius (at most {limit:.0%} of them, never all)",
            file=target.env_file,
            field="guardrails.max_replica_share",
            fix="Ask for a smaller share or count, or raise the limit deliberately")
    return wanted


def guard_kill(target: Target, arguments: dict, secrets: Secrets | None) -> None:
    """The guardrail of kill_lms_replicas, run before the experiment (see faults.py)."""
    planned_kill(target, arguments["share"], arguments["count"], secrets)


@fenced
@watched
def wait_lms_replicas_ready(deployment: str = "lms", timeout_seconds: int = 120,
                            configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Wait until every LMS replica is running and ready (starting any left stopped)."""
    result = resolve("pods", deployment, configuration).drive(
        "wait_ready", secrets, timeout_seconds=timeout_seconds)
    settle(_ROLLBACK, {"deployment": deployment}, configuration)
    return result


@fenced
@watched
def stop_lms_replicas(deployment: str = "lms", count: int = 1,
                      configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Keep COUNT LMS replicas stopped until restore_lms_replicas (what a capacity sweep holds:
    killed replicas would come back). Sandbox: supervisord stops them; Kubernetes: the
    deployment is scaled down. The blast radius of kill_lms_replicas applies; the
    rollback, with the count to bring back, is in the ledger first."""
    target = resolve("pods", deployment, configuration)
    wanted = planned_kill(target, 0, count, secrets)
    total = target.drive("replicas", secrets)
    record_rollback("stop_lms_replicas", _RESTORE, {"deployment": deployment,
                                                    "replicas": total}, configuration)
    return target.drive("stop", secrets, count=wanted)


def guard_stop(target: Target, arguments: dict, secrets: Secrets | None) -> None:
    """The guardrail of stop_lms_replicas, run before anything acts (see faults.py)."""
    planned_kill(target, 0, arguments["count"], secrets)


def live_stop(target: Target, arguments: dict, result: dict,
              secrets: Secrets | None) -> bool:
    """The live check of stop_lms_replicas (see faults.py): fewer replicas run than before."""
    return target.drive("running", secrets) < result["replicas"]


@fenced
@watched
def restore_lms_replicas(deployment: str = "lms", replicas: int = 0, timeout_seconds: int = 120,
                         configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Bring the deployment back to REPLICAS and wait until every one is ready (sandbox:
    start the stopped ones). Without REPLICAS, the ledger's pending entry for this
    deployment gives it; with none, the count it has now."""
    target = resolve("pods", deployment, configuration)
    if not replicas:
        entry = own_entry(_RESTORE, configuration, deployment=deployment)
        replicas = entry.arguments["replicas"] if entry is not None else \
            target.drive("replicas", secrets)
    result = target.drive("restore", secrets, replicas=replicas,
                          timeout_seconds=timeout_seconds)
    settle(_RESTORE, {"deployment": deployment, "replicas": replicas}, configuration)
    return result
