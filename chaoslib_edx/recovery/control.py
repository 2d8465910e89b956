"""Chaos Toolkit control: after the experiment, run every rollback still in the ledger.

chaoslib's default rollback strategy skips rollbacks when a run is interrupted
(SIGINT/SIGTERM) or failed; it still ends its controls, so this runs on every path.

    controls:
      - name: recovery-ledger
        provider: {type: python, module: chaoslib_edx.recovery.control}
"""

import logging

from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaoslib_edx.recovery.ledger import Ledger, ledger_path

logger = logging.getLogger("chaostoolkit")


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
