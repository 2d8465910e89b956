"""Database latency on AWS: an AWS FIS experiment template whose action is
aws:eks:pod-network-latency on the LMS pods, started and stopped through chaosaws's fis
activities under the role the inventory names (chaoslib_edx.fis). The template fixes the
delay, so the experiment's latency must be the template's; FIS's own `duration` ends it
even if nothing else does."""

from chaoslib.types import Secrets

from chaoslib_edx import fis
from chaoslib_edx.dblatency.contract import AwsDatabaseLatency, SlowResult, SpeedResult
from chaoslib_edx.fis import STOP_WAIT_S  # noqa: F401  (the rollback's bound counts it)
from chaoslib_edx.targets import GuardrailRefused, Target

ACTION = "aws:eks:pod-network-latency"
DEFAULTS = {"delayMilliseconds": 200, "jitterMilliseconds": 10}  # FIS's, when unset


def _template_delay(target: Target, secrets: Secrets | None) -> tuple[int, int]:
    """(delay, jitter) in ms of the template's pod-network-latency action."""
    spec: AwsDatabaseLatency = target.spec
    template = fis.template(target, spec.role_arn, spec.template_id, secrets)
    actions = [a for a in template.get("actions", {}).values() if a.get("actionId") == ACTION]
    if len(actions) != 1:
        raise GuardrailRefused(
            f"the FIS template {spec.template_id} has {len(actions)} {ACTION} actions; the "
            "fault needs exactly one", file=target.env_file,
            field=f"aws.database_latency.{target.name}.template_id",
            fix=f"Point it at a template that adds latency to the LMS pods with one {ACTION}")
    parameters = {**DEFAULTS, **actions[0].get("parameters", {})}
    return int(parameters["delayMilliseconds"]), int(parameters["jitterMilliseconds"])


def check(target: Target, *, secrets: Secrets | None, latency_ms: int, jitter_ms: int) -> None:
    delay, jitter = _template_delay(target, secrets)
    for field, asked, has in (("latency_ms", latency_ms, delay), ("jitter_ms", jitter_ms, jitter)):
        if asked != has:
            raise GuardrailRefused(
                f"{asked} ms is not what the FIS template {target.spec.template_id} injects "
                f"({delay} +/- {jitter} ms)", field=field,
                fix=f"Ask for latency_ms {delay} and jitter_ms {jitter}, or change the "
                    f"template's delayMilliseconds/jitterMilliseconds")


def slow(target: Target, *, secrets: Secrets | None, latency_ms: int, jitter_ms: int,
         run: str) -> SlowResult:
    """Start the template and wait until FIS says it runs."""
    spec: AwsDatabaseLatency = target.spec
    experiment_id, status = fis.start(target, spec.role_arn, spec.template_id, run, secrets)
    return {"latency_ms": latency_ms, "jitter_ms": jitter_ms, "experiment_id": experiment_id,
            "status": status}


def restore(target: Target, *, secrets: Secrets | None, run: str | None) -> SpeedResult:
    """Stop our live experiments and wait until FIS has ended each (the pods' delay
    goes with it)."""
    spec: AwsDatabaseLatency = target.spec
    stopped = fis.stop(target, spec.role_arn, spec.template_id, secrets, run)
    return {"latency_ms": added_latency(target, secrets=secrets), "stopped": stopped,
            "status": "restored"}


def added_latency(target: Target, *, secrets: Secrets | None) -> int:
    """The template's delay while one of our experiments on it is live, else 0."""
    spec: AwsDatabaseLatency = target.spec
    if next(fis.ours(target, spec.role_arn, spec.template_id, secrets, None), None) is None:
        return 0
    return _template_delay(target, secrets)[0]
