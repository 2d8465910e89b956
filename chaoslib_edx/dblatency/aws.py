"""Database latency on AWS: an AWS FIS experiment template whose action is
aws:eks:pod-network-latency on the LMS pods, started and stopped through chaosaws's fis
activities under the role the inventory names. The template fixes the delay, so the
experiment's latency must be the template's; FIS's own `duration` ends it even if
nothing else does."""

from collections.abc import Iterator

from chaosaws.fis.actions import start_experiment, stop_experiment
from chaosaws.fis.probes import get_experiment
from chaoslib.types import Secrets

from chaoslib_edx import aws
from chaoslib_edx.dblatency.contract import AwsDatabaseLatency, SlowResult, SpeedResult
from chaoslib_edx.targets import GuardrailRefused, Target
from chaoslib_edx.waiting import wait_until

ACTION = "aws:eks:pod-network-latency"
RUN_TAG = "chaostoolkit-edx-run"   # on every experiment we start: the ledger's run id
DEFAULTS = {"delayMilliseconds": 200, "jitterMilliseconds": 10}  # FIS's, when unset
STARTING = ("pending", "initiating", "running")
LIVE = (*STARTING, "stopping")   # the delay may still be on the pods
STOP_WAIT_S = 300  # how long a stopped experiment may take to end


def _configuration(target: Target) -> dict:
    """chaosaws's configuration, acting as the inventory's FIS role."""
    spec: AwsDatabaseLatency = target.spec
    return {**aws.chaosaws_configuration(target), "aws_assume_role_arn": spec.role_arn}


def _fis(target: Target, secrets: Secrets | None):
    return aws.client_of(aws.session_for(_configuration(target), secrets), "fis")


def _template_delay(target: Target, secrets: Secrets | None) -> tuple[int, int]:
    """(delay, jitter) in ms of the template's pod-network-latency action."""
    spec: AwsDatabaseLatency = target.spec
    template = _fis(target, secrets).get_experiment_template(id=spec.template_id)
    actions = [a for a in template["experimentTemplate"].get("actions", {}).values()
               if a.get("actionId") == ACTION]
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
    """Start the template (RUN is the idempotency token: a retry starts nothing twice)
    and wait until FIS says it runs."""
    spec: AwsDatabaseLatency = target.spec
    config = _configuration(target)
    started = start_experiment(experiment_template_id=spec.template_id, client_token=run,
                               tags={RUN_TAG: run}, configuration=config, secrets=secrets)
    experiment_id = started["experiment"]["id"]
    status = aws.wait_for_status(
        lambda: _state(experiment_id, config, secrets), "running",
        f"FIS experiment {experiment_id}", timeout_s=300)
    return {"latency_ms": latency_ms, "jitter_ms": jitter_ms, "experiment_id": experiment_id,
            "status": status}


def _state(experiment_id: str, config: dict, secrets: Secrets | None) -> str:
    state = get_experiment(experiment_id=experiment_id, configuration=config,
                           secrets=secrets)["experiment"]["state"]
    if state["status"] not in STARTING:
        raise RuntimeError(f"FIS experiment {experiment_id} is {state['status']}: "
                           f"{state.get('reason', '')}")
    return state["status"]


def _ours(target: Target, secrets: Secrets | None, run: str | None) -> Iterator[dict]:
    """Live experiments of the template that we started (RUN's alone, when given). Not
    chaosaws's stop_experiments_by_tags: it reads one page and also stops finished ones."""
    spec: AwsDatabaseLatency = target.spec
    pages = _fis(target, secrets).get_paginator("list_experiments").paginate(
        experimentTemplateId=spec.template_id)
    for page in pages:
        for experiment in page["experiments"]:
            tags = experiment.get("tags", {})
            if RUN_TAG in tags and (run is None or tags[RUN_TAG] == run) \
                    and experiment["state"]["status"] in LIVE:
                yield experiment


def restore(target: Target, *, secrets: Secrets | None, run: str | None) -> SpeedResult:
    """Stop our live experiments and wait until FIS has ended each (the pods' delay
    goes with it)."""
    config = _configuration(target)
    ending = list(_ours(target, secrets, run))
    stopped = []
    for experiment in ending:
        if experiment["state"]["status"] != "stopping":
            stop_experiment(experiment_id=experiment["id"], configuration=config,
                            secrets=secrets)
            stopped.append(experiment["id"])
    for experiment in ending:
        wait_until(lambda: get_experiment(experiment_id=experiment["id"], configuration=config,
                                          secrets=secrets)["experiment"]["state"]["status"],
                   until=lambda status: status not in LIVE, timeout=STOP_WAIT_S, interval=1.0,
                   max_interval=15.0, what=f"FIS experiment {experiment['id']} ended")
    return {"latency_ms": added_latency(target, secrets=secrets), "stopped": stopped,
            "status": "restored"}


def added_latency(target: Target, *, secrets: Secrets | None) -> int:
    """The template's delay while one of our experiments on it is live, else 0."""
    if next(_ours(target, secrets, None), None) is None:
        return 0
    return _template_delay(target, secrets)[0]
