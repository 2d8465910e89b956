"""`edx-gameday recover`: run what a crash left pending in an environment's ledger."""

import json
from dataclasses import dataclass
from pathlib import Path

from chaoslib_edx import lease
from chaoslib_edx.capacity import RUN_FILE
from chaoslib_edx.context import environment_context
from chaoslib_edx.files import replace_text
from chaoslib_edx.history.record import record_run
from chaoslib_edx.lease.base import Say
from chaoslib_edx.ledger import open_ledger
from chaoslib_edx.load.launcher import stop_recorded
from chaoslib_edx.platforms import Platform
from chaoslib_edx.report.rundir import RunWriter


@dataclass
class Recovery:
    ledger: str                 # where the ledger is
    results: list[dict]         # one per pending rollback, newest first, naming its run
    load_stopped: list[int]     # pids of a crashed run's load that were still running
    crashed_run: str | None = None  # the run directory of a runner that died, re-reported


def recover(env_file: str, ledger: str | None = None, say: Say | None = None) -> Recovery:
    """Stop the load of runs that are no longer live and run every rollback they left
    pending in ENV_FILE's environment, newest first, under the environment's lease.

    Refused (LeaseHeld) while a live run holds the lease: recovering under it would undo
    its faults. A lease whose holder stopped renewing is taken over only once it has gone
    unrenewed for lease_s + grace_s on this machine's clock (SAY hears of the wait); so
    every run recover acts for has lost its lease, and rolls back nothing itself. Works
    from any directory: the lease, the ledger and the load's pidfiles belong to the
    environment.
    """
    context = environment_context(env_file, ledger)  # a bad file: exit 2 before anything runs
    configuration = context.configuration
    book = open_ledger(configuration)
    run = lease.begin(configuration, "edx-gameday recover", say=say)
    try:
        stopped = stop_recorded(context.platform.state_dir(), spare=run.id)
        results = book.run_pending(run, configuration, None)
    finally:
        lease.end(run)
    crashed = _report_crashed(run.lease.took_over, context.platform, say or (lambda line: None))
    return Recovery(book.where, results, stopped, crashed)


_CRASHED = ("the runner died without finishing (SIGKILL or a lost machine); "
            "`edx-gameday recover` ran what it left pending")


def _report_crashed(holder: dict | None, platform: Platform, say: Say) -> str | None:
    """Re-render the report of a run whose runner died holding the lock (SIGKILL, power
    loss): it could not write its end, so its run.json (a capacity run's
    capacity-run.json) still says running. The history records it as crashed, and its
    report shows how it compares with the runs before."""
    run_dir = Path(str((holder or {}).get("run_dir") or ""))
    if holder and (run_dir / RUN_FILE).is_file():
        return _capacity_crashed(run_dir, platform, say)
    run_json = run_dir / "run.json"
    if not holder or not run_json.is_file():
        return None
    info = json.loads(run_json.read_text())
    if info.get("status") != "running":
        return None
    from chaoslib_edx.report.render import render, write_summary  # matplotlib: only now

    RunWriter(run_dir, info).update(status="crashed", abort_reason=_CRASHED)
    write_summary(run_dir)
    record_run(platform, run_dir, say)
    render(run_dir)
    return str(run_dir)


def _capacity_crashed(run_dir: Path, platform: Platform, say: Say) -> str | None:
    info = json.loads((run_dir / RUN_FILE).read_text())
    if info.get("status") != "running":
        return None
    from chaoslib_edx.capacity.report import render, write_summary  # matplotlib: only now

    info.update(status="crashed", error=_CRASHED)
    replace_text(run_dir / RUN_FILE, json.dumps(info, indent=2) + "\n")
    write_summary(run_dir)
    record_run(platform, run_dir, say)
    render(run_dir)
    return str(run_dir)
