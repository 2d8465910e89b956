"""`edx-gameday capacity`: find the knee of the platform with an open-model sweep."""

import shutil
import sys

import click

from chaoslib_edx.errors import EXIT_BAD_INPUT

EXIT_HOLDS, EXIT_SHORT, EXIT_INTERRUPTED = 0, 1, 3


@click.command()
@click.argument("plan")
@click.option("--env", "env_file", type=click.Path(dir_okay=False),
              help="Environment inventory (default: the plan's 'environment').")
@click.option("--out", type=click.Path(file_okay=False),
              help="Run directory (default reports/<plan>-<UTC time>).")
@click.option("--sweep", "only", multiple=True, metavar="NAME",
              help="Run only this sweep ('normal' or a degraded one's name); repeatable.")
@click.option("--dry-run", is_flag=True,
              help="Validate, check guardrails and health, print the sweeps; change nothing.")
@click.option("--junit", type=click.Path(dir_okay=False),
              help="Also write the JUnit XML here (one test case per sweep).")
@click.option("--confirm-production", metavar="NAME",
              help="Confirm a sweep against the production environment NAME.")
@click.option("--fail-on-regression", is_flag=True,
              help="Exit 1 when a knee dropped against the plan's last runs (its baseline).")
@click.option("--ignore-budget-gate", "ignore_gate", multiple=True, metavar="SLO",
              help="Start although SLO's error budget is below the budget_gate (a human's "
                   "decision, recorded in the report with your user name); repeatable.")
def capacity(plan: str, env_file: str | None, out: str | None, only: tuple[str, ...],
             dry_run: bool, junit: str | None, confirm_production: str | None,
             fail_on_regression: bool, ignore_gate: tuple[str, ...]) -> None:
    """Sweep the arrival rate until an SLO breaks: the knee, what saturates, the headroom.

    PLAN is a capacity plan file, or the name of one shipped with the package
    (capacity-enrollment-peak). The load is open-model: learner actions arrive on a
    schedule (steps, a ramp, or a recorded peak scaled up) whether or not the platform
    keeps up, and latency counts from each action's intended start, so a stall is not
    hidden by a generator waiting on it. Each step is judged by the plan's SLOs (the
    catalog's objectives and thresholds); a sweep stops by itself once they break.

    Then the same sweep with each 'degraded' fault held live (its rollback recorded
    first, run when the sweep ends, on error or on a signal). Steps where the generator
    itself is the limit (its CPU, or late or dropped arrivals) are marked and never
    reported as the platform's knee. The report (index.html, capacity.json,
    capacity.md, junit.xml) goes to the run directory; `edx-gameday report DIR
    --out OTHER` renders it again.

    \b
      edx-gameday capacity capacity-enrollment-peak --dry-run
      edx-gameday capacity gamedays/capacity-enrollment-peak.yaml --sweep normal

    Every run is recorded in the environment's history and compared with the plan's
    last runs (`baseline` in the plan: a knee down by more than knee_down is a
    regression); the report shows it. A plan's budget_gate keeps it from starting while
    a gated SLO's error budget is spent, as a game day's does.

    Exit codes: 0 the normal sweep holds the projected peak, 1 it does not (the report
    says where it breaks), the runner failed, or (with --fail-on-regression) a knee
    regressed, 2 bad input or preflight refused, 3 interrupted (rollbacks ran).
    """
    from chaoslib_edx.capacity.plan import load_plan
    from chaoslib_edx.capacity.runner import CapacityRun
    from chaoslib_edx.gameday.outputs import junit_destination, run_directory
    from chaoslib_edx.gameday.schema import find_gameday

    junit_file = junit_destination(junit) if junit else None
    path = find_gameday(plan)
    loaded = load_plan(path, env_file)
    if only:
        loaded.only(only)
    runner = CapacityRun(loaded, run_directory(path, out), confirm_production,
                         echo=lambda line: click.echo(line, err=True),
                         ignore_gate=list(ignore_gate))
    if dry_run:
        lines, ready = runner.dry_run()
        click.echo("\n".join(lines))
        sys.exit(0 if ready else EXIT_BAD_INPUT)
    summary = runner.execute()
    if junit_file is not None:
        shutil.copyfile(runner.out / "junit.xml", junit_file)
    for sweep in summary["sweeps"]:
        brk = sweep["first_break"]
        click.echo(f"{sweep['name']}: knee {_rate(sweep['knee_rate'])}; "
                   + (f"first to break: {', '.join(brk['slos'])} at {brk['rate']:g}/s"
                      + (f", {brk['saturated']['component']} most saturated"
                         if brk["saturated"] else "") if brk else "no SLO broke")
                   + f"; {sweep['headroom']['text']}"
                   + ("; generator-bound at " + ", ".join(
                       f"{rate:g}/s" for rate in sweep["generator_bound_rates"])
                      if sweep["generator_bound_rates"] else ""))
    if summary["pending_rollbacks"]:
        click.echo(f"ROLLBACKS STILL PENDING: {', '.join(summary['pending_rollbacks'])}; run "
                   "edx-gameday recover")
    click.echo(f"report: {runner.out / 'index.html'}")
    regressions = (summary.get("comparison") or {}).get("regressions", [])
    for regression in regressions:
        click.echo(f"REGRESSION: {regression['text']}")
    if summary["status"] == "interrupted":
        sys.exit(EXIT_INTERRUPTED)
    normal = summary["headroom"]
    sys.exit(EXIT_HOLDS if summary["status"] == "completed" and (normal is None or
                                                                 normal["holds"])
             and not (fail_on_regression and regressions) else EXIT_SHORT)


def _rate(value: float | None) -> str:
    return "not found" if value is None else f"{value:g} arrivals/s"
