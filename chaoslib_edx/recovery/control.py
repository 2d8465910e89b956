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
import signal
import threading
from types import FrameType

from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaoslib_edx.guardrails import check_experiment
from chaoslib_edx.ledger import open_ledger

logger = logging.getLogger("chaostoolkit")
last_signal: int | None = None  # what interrupted the last experiment (the runner reads it)


def _terminate(signum: int, frame: FrameType | None) -> None:
    global last_signal
    if last_signal is not None:  # a second Ctrl-C must not cut the rollbacks short
        logger.warning(f"{signal.Signals(signum).name} again: already stopping, the rollbacks "
                       "are running (SIGKILL, then `edx-gameday recover`, if they hang)")
        return
    last_signal = signum
    logger.warning(f"{signal.Signals(signum).name}: interrupting the experiment; pending "
                   "rollbacks will run")
    raise SystemExit(128 + signum)


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **kwargs: object) -> None:
    # chaoslib's SIGTERM handler raises InterruptExecution, which its python provider
    # turns into an activity failure when it lands inside an activity, and the run goes
    # on. SystemExit is not an Exception: chaoslib marks the run interrupted and still
    # ends its controls, so the ledger below runs. SIGINT and SIGHUP (a closed terminal)
    # the same way, so they are named.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, _terminate)
    for name, target in check_experiment(context, configuration, secrets):
        logger.info(f"guardrails: '{name}' may act on {target.kind} '{target.name}' "
                    f"({target.driver}, environment {target.environment.name})")


def after_experiment_control(context: Experiment, state: Journal,
                             configuration: Configuration = None, secrets: Secrets = None,
                             **kwargs: object) -> None:
    ledger = open_ledger(configuration)
    for result in ledger.run_pending(configuration, secrets):
        if result["ok"]:
            logger.warning(f"recovery ledger: ran pending rollback {result['rollback']}")
        else:
            logger.error(f"recovery ledger: rollback {result['rollback']} failed: "
                         f"{result['error']}; `edx-gameday recover` retries it")
