"""Replica actions: kill a bounded share of LMS replicas, then wait until all are ready."""

import math

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.ledger import record_rollback, settle
from chaoslib_edx.targets import GuardrailRefused, Target, resolve

__all__ = ["kill_lms_replicas", "wait_lms_replicas_ready"]

_ROLLBACK = "chaoslib_edx.pods.actions:wait_lms_replicas_ready"


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


def wait_lms_replicas_ready(deployment: str = "lms", timeout_seconds: int = 120,
                            configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Wait until every LMS replica is running and ready (starting any left stopped)."""
    result = resolve("pods", deployment, configuration).drive(
        "wait_ready", secrets, timeout_seconds=timeout_seconds)
    settle(_ROLLBACK, {"deployment": deployment}, configuration)
    return result
