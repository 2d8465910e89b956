"""Chaos Toolkit control for safety: guardrails before, the recovery ledger after.

Before the experiment every fault is checked against the inventory and guardrails
(a refusal interrupts the run before anything acts). After it, every rollback still in
the ledger runs: chaoslib's default strategy skips rollbacks when a run is interrupted
(SIGINT/SIGTERM) or failed, but it still ends its controls, so this runs on every path.
List it first, so nothing (not even load) starts before the guardrails pass:

    controls:
      - name: safety
        provider: {type: python, module: chaoslib_edx.recovery.control}
"""

import logging

from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaoslib_edx.guardrails import check_experiment
from chaoslib_edx.recovery.ledger import Ledger, ledger_path

logger = logging.getLogger("chaostoolkit")


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **kwargs: object) -> None:
    for name, target in check_experiment(context, configuration, secrets):
        logger.info(f"guardrails: '{name}' may act on {target.kind} '{target.name}' "
                    f"({target.driver}, environment {target.environment.name})")


def after_experiment_control(context: Experiment, state: Journal,
                             configuration: Configuration = None, secrets: Secrets = None,
                             **kwargs: object) -> None:
    ledger = Ledger(ledger_path(configuration))
    for result in ledger.run_pending(configuration, secrets):
        if result["ok"]:
            logger.warning(f"recovery ledger: ran pending rollback {result['rollback']}")
        else:
            logger.error(f"recovery ledger: rollback {result['rollback']} failed: "
                         f"{result['error']}; `edx-gameday recover` retries it")
