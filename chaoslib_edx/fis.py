"""AWS FIS experiments from a template the inventory names, as the AWS drivers run them:
started through chaosaws's fis activities under the role the inventory names, tagged with
the run that started them, watched until FIS says they run, and stopped (ours alone,
another team's experiments on the same template untouched) until FIS has ended them."""

from collections.abc import Iterator

from chaosaws.fis.actions import start_experiment, stop_experiment
from chaosaws.fis.probes import get_experiment
from chaoslib.types import Secrets

from chaoslib_edx import aws
from chaoslib_edx.targets import Target
from chaoslib_edx.waiting import wait_until

RUN_TAG = "chaostoolkit-edx-run"   # on every experiment we start: the ledger's run id
STARTING = ("pending", "initiating", "running")
LIVE = (*STARTING, "stopping")     # what it injects may still be in effect
START_WAIT_S = 300  # how long FIS may take to start one
STOP_WAIT_S = 300   # how long a stopped experiment may take to end


def configuration(target: Target, role_arn: str) -> dict:
    """chaosaws's configuration, acting as ROLE_ARN (the inventory's FIS role)."""
    return {**aws.chaosaws_configuration(target), "aws_assume_role_arn": role_arn}


def template(target: Target, role_arn: str, template_id: str,
             secrets: Secrets | None) -> dict:
    """The experiment template TEMPLATE_ID as FIS describes it."""
    client = aws.client_of(aws.session_for(configuration(target, role_arn), secrets), "fis")
    return client.get_experiment_template(id=template_id)["experimentTemplate"]


def start(target: Target, role_arn: str, template_id: str, run: str,
          secrets: Secrets | None) -> tuple[str, str]:
    """Start TEMPLATE_ID (RUN is the idempotency token and the run tag: a retry starts
    nothing twice) and wait until FIS says it runs: (experiment id, status)."""
    config = configuration(target, role_arn)
    started = start_experiment(experiment_template_id=template_id, client_token=run,
                               tags={RUN_TAG: run}, configuration=config, secrets=secrets)
    experiment_id = started["experiment"]["id"]
    status = aws.wait_for_status(lambda: _starting(experiment_id, config, secrets), "running",
                                 f"FIS experiment {experiment_id}", timeout_s=START_WAIT_S)
    return experiment_id, status


def _starting(experiment_id: str, config: dict, secrets: Secrets | None) -> str:
    state = get_experiment(experiment_id=experiment_id, configuration=config,
                           secrets=secrets)["experiment"]["state"]
    if state["status"] not in STARTING:
        raise RuntimeError(f"FIS experiment {experiment_id} is {state['status']}: "
                           f"{state.get('reason', '')}")
    return state["status"]


def ours(target: Target, role_arn: str, template_id: str, secrets: Secrets | None,
         run: str | None) -> Iterator[dict]:
    """Live experiments of the template that we started (RUN's alone, when given). Not
    chaosaws's stop_experiments_by_tags: it reads one page and also stops finished ones."""
    client = aws.client_of(aws.session_for(configuration(target, role_arn), secrets), "fis")
    pages = client.get_paginator("list_experiments").paginate(experimentTemplateId=template_id)
    for page in pages:
        for experiment in page["experiments"]:
            tags = experiment.get("tags", {})
            if RUN_TAG in tags and (run is None or tags[RUN_TAG] == run) \
                    and experiment["state"]["status"] in LIVE:
                yield experiment


def stop(target: Target, role_arn: str, template_id: str, secrets: Secrets | None,
         run: str | None) -> list[str]:
    """Stop our live experiments of the template and wait until FIS has ended each; the
    ids of those this call stopped."""
    config = configuration(target, role_arn)
    ending = list(ours(target, role_arn, template_id, secrets, run))
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
    return stopped
