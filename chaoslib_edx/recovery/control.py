"""Chaos Toolkit control for safety: guardrails and the environment's lease before an
experiment, the run's own pending rollbacks after it.

Before the experiment every fault is checked against the inventory and guardrails (a
refusal interrupts the run before anything acts), then the run takes the environment's
lease: while a game day, a capacity run or another experiment holds it, the experiment is
refused before any method step, naming the holder. Inside a game day the experiment runs
under the game day's lease (re-entrant), never a second one. After it, every rollback this
run left pending runs: chaoslib's default strategy skips rollbacks when a run is
interrupted (SIGINT/SIGTERM) or failed, but it still ends its controls, so this runs on
every path; another run's entries are never touched. The journal's `extensions` say which
run acted, under which token, and how long each fault stayed live (chaoslib_edx.liveness):
a fault that ended before its rollback fails a plain `chaos run` (inconclusive, in a game
day). List it first, so nothing (not even load) starts before the guardrails and the lease:

    controls:
      - name: safety
        provider: {type: python, module: chaoslib_edx.recovery.control}
"""

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaoslib_edx import lease, liveness
from chaoslib_edx.guardrails import check_experiment
from chaoslib_edx.ledger import open_ledger

logger = logging.getLogger("chaostoolkit")
last_signal: int | None = None  # what interrupted the last experiment (the runner reads it)
_own: list[lease.Run] = []  # the run this control began (a plain `chaos run`), to end
_marks: dict[str, int] = {}  # run id -> its faults before this experiment (liveness)


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


def _lease_lost(reason: str) -> None:
    """The renewer lost this run's lease: stop the experiment in the main thread (SIGUSR1)."""
    logger.error(f"lease lost: {reason}; stopping the experiment: nothing more acts and "
                 "nothing is rolled back (its rollbacks stay in the ledger for the "
                 "environment's new holder to run with `edx-gameday recover`)")
    os.kill(os.getpid(), signal.SIGUSR1)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    global last_signal
    if last_signal is None:
        last_signal = signum
        raise SystemExit(20)  # chaoslib's graceful exit: the run is marked interrupted


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **kwargs: object) -> None:
    # chaoslib's SIGTERM handler raises InterruptExecution, which its python provider
    # turns into an activity failure when it lands inside an activity, and the run goes
    # on. SystemExit is not an Exception: chaoslib marks the run interrupted and still
    # ends its controls, so the ledger below runs. SIGINT and SIGHUP (a closed terminal)
    # the same way, so they are named.
    main = threading.current_thread() is threading.main_thread()
    if main:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, _terminate)
    for name, target in check_experiment(context, configuration, secrets):
        logger.info(f"guardrails: '{name}' may act on {target.kind} '{target.name}' "
                    f"({target.driver}, environment {target.environment.name})")
    run = lease.current(configuration)  # a game day's: its experiments act under it
    if run is None:
        run = lease.begin(configuration, f"chaos run of '{context.get('title', '?')}'",
                          run_dir=Path.cwd(), say=logger.warning,
                          on_lost=_lease_lost if main else None)
        if main:
            signal.signal(signal.SIGUSR1, _interrupt)
        _own.append(run)
        logger.info(f"lease: environment held by this run (token {run.token}, "
                    f"{run.lease.where})")
    _marks[run.id] = liveness.count(run.id)


def after_experiment_control(context: Experiment, state: Journal,
                             configuration: Configuration = None, secrets: Secrets = None,
                             **kwargs: object) -> None:
    run = lease.current(configuration)
    if run is None:
        return  # refused before it held the environment: nothing of its own to roll back
    lives = liveness.finish(run.id, since=_marks.pop(run.id, 0))
    if isinstance(state, dict):  # the journal: the run, its grant, how its faults lived
        state.setdefault("extensions", []).append(
            {"name": "chaostoolkit-edx", "run": run.id, "lease_token": run.token,
             "faults": lives})
        ended = liveness.ended_early(lives)
        if ended is not None and run in _own:
            state["status"] = "failed"  # it did not test what it claims: not completed
            logger.error(f"the experiment is inconclusive: {ended['action']} on "
                         f"{ended['fault']} '{ended['target']}' ended "
                         f"{ended['ended_after_s']:g} s after it went live, before its "
                         "rollback")
    try:
        if run.lease.lost is not None:
            logger.error(f"lease lost ({run.lease.lost}): this run's pending rollbacks are "
                         "left for the environment's new holder")
            return
        ledger = open_ledger(configuration)
        for result in ledger.run_pending(run, configuration, secrets, whose=run.id):
            if result["ok"]:
                logger.warning(f"recovery ledger: ran pending rollback {result['rollback']}")
            else:
                logger.error(f"recovery ledger: rollback {result['rollback']} failed: "
                             f"{result['error']}; `edx-gameday recover` retries it")
    finally:
        if run in _own:
            _own.remove(run)
            lease.end(run)
