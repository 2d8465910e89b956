"""`edx-gameday check|recover|run|report|ack`: experiments and game days."""

import getpass
import sys
from pathlib import Path

import click

from chaoslib_edx.context import DEFAULT_ENVIRONMENT as DEFAULT_ENV
from chaoslib_edx.errors import EXIT_BAD_INPUT, UserError


@click.command()
@click.argument("experiment", type=click.Path(dir_okay=False))
@click.option("--env", "env_file", type=click.Path(dir_okay=False),
              help="Environment inventory (default: the experiment's edx_environment).")
@click.option("--confirm-production", metavar="NAME",
              help="Confirm a run against the production environment NAME.")
def check(experiment: str, env_file: str | None, confirm_production: str | None) -> None:
    """Check an experiment's faults against the inventory and guardrails; act on nothing.

    Prints which fault would act on which target through which driver. Exit 2 when one
    is refused (a target not in the inventory, a pod kill over the blast radius, a
    production environment without --confirm-production).

    \b
      edx-gameday check experiments/lms-pod-kill.yaml --env gamedays/environments/sandbox.yaml
    """
    from chaoslib_edx.guardrails import check_experiment_file

    planned = check_experiment_file(experiment, env_file, confirm_production)
    for name, target in planned:
        click.echo(f"  {name:<32} {target.kind} '{target.name}' via {target.driver} "
                   f"({target.environment.kind} environment '{target.environment.name}')")
    click.echo(f"check: {len(planned)} fault activities pass the guardrails; nothing was run")


@click.command()
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="The environment the faults were applied to.")
@click.option("--ledger", type=click.Path(dir_okay=False),
              help="A ledger file named by EDX_LEDGER for the run (default: the "
                   "environment's own, in its state dir or its state backend).")
def recover(env_file: str, ledger: str | None) -> None:
    """Run every rollback still pending in the recovery ledger (after a crash or SIGKILL).

    Each fault records its rollback before it acts; this takes the environment's lease,
    stops the load the runs that crashed or lost their lease left, then runs what they
    never rolled back, newest first, naming each one's run. Works from any directory:
    the lease, the ledger and the load's pidfiles belong to the environment. Safe to
    repeat: with nothing pending it does nothing. Refused (exit 2) while a live run holds
    the environment; on a DynamoDB state table, a lease its holder stopped renewing is
    taken over once it has gone unrenewed for state.lease_s + state.grace_s. Exit 1 if a
    rollback failed.

    \b
      edx-gameday recover --env /srv/gamedays/environments/staging.yaml
    """
    from chaoslib_edx.ledger import LEGACY
    from chaoslib_edx.recovery.recover import recover as run_pending

    recovery = run_pending(env_file, ledger, say=lambda line: click.echo(f"  {line}", err=True))
    path, results = recovery.ledger, recovery.results
    if recovery.crashed_run:
        click.echo(f"  the run in {recovery.crashed_run} had crashed: its report now says so")
    if recovery.load_stopped:
        click.echo(f"  stopped the load a crashed run left: pids "
                   f"{', '.join(map(str, recovery.load_stopped))}")
    for result in results:
        state = "ok" if result["ok"] else f"FAILED: {result['error']}"
        whose = ("a ledger line from before runs were recorded (legacy)"
                 if result["run"] == LEGACY else
                 f"run {result['label'] or result['run']}, lease token {result['token']}")
        click.echo(f"  {result['rollback']:<50} {state} ({whose})")
    failed = [r for r in results if not r["ok"]]
    click.echo(f"recover: {len(results) - len(failed)} rollbacks ran, {len(failed)} failed, "
               f"ledger {path}" if results else f"recover: nothing pending in {path}")
    sys.exit(1 if failed else 0)


@click.command()
@click.argument("gameday")
@click.option("--env", "env_file", type=click.Path(dir_okay=False),
              help="Environment inventory (default: the game day's 'environment').")
@click.option("--out", type=click.Path(file_okay=False),
              help="Run directory (default reports/<game day>-<UTC time>).")
@click.option("--dry-run", is_flag=True,
              help="Validate, check guardrails and health, print the plan; change nothing.")
@click.option("--junit", type=click.Path(dir_okay=False),
              help="Also write the JUnit XML here (one test case per experiment and SLO).")
@click.option("--confirm-production", metavar="NAME",
              help="Confirm a game day against the production environment NAME.")
@click.option("--fail-on-regression", is_flag=True,
              help="Exit 1 when the run regressed against its series' last runs (the game "
                   "day's baseline: detection lost or slower, more budget burned).")
@click.option("--ignore-budget-gate", "ignore_gate", multiple=True, metavar="SLO",
              help="Start although SLO's error budget is below the budget_gate (a human's "
                   "decision, recorded in the report with your user name); repeatable.")
@click.option("--console", is_flag=True,
              help="Serve the live console for the team (also: the game day's console: "
                   "{enabled: true}); prints one URL per role.")
@click.option("--upload", metavar="s3://BUCKET/PREFIX", envvar="EDX_UPLOAD_URL",
              help="Also copy the run directory there once the report is written "
                   "(a scheduled pod's disk goes with it). Env: EDX_UPLOAD_URL.")
def run(gameday: str, env_file: str | None, out: str | None, dry_run: bool, junit: str | None,
        confirm_production: str | None, fail_on_regression: bool, ignore_gate: tuple[str, ...],
        console: bool, upload: str | None) -> None:
    """Run a game day: one load, a timeline of experiments, SLOs watched, a report.

    GAMEDAY is a game-day file, or the name of one shipped with the package
    (course-launch). Paths inside it are relative to its own directory.

    Everything is validated first (game day, environment, SLO catalog, experiments):
    errors name the file and field, exit 2, nothing changed. Then preflight: an
    environment lock, guardrails, no rollback pending, healthy targets. The load runs
    in its own process; each experiment runs through chaoslib at its offset while the
    SLOs are evaluated every second; an abort condition stops the game day and rolls
    back. SIGINT/SIGTERM roll back too. The report is written in every case.

    With --console the runner serves a live console on 127.0.0.1 (the sandbox: its
    port_base+29; elsewhere 8090 or the game day's console.port) and prints one URL per
    role: observers read and add notes, the on-call also acknowledges pages, the game
    master also holds the next fault and aborts. Notes land in the report and postmortem.
    On a runner pod: kubectl port-forward pod/RUNNER 8090, then open the printed URL.

    \b
      edx-gameday run gamedays/course-launch.yaml --dry-run
      edx-gameday run gamedays/course-launch.yaml --junit junit.xml
      edx-gameday run gamedays/course-launch.yaml --console

    Every run is recorded in the environment's history and compared with the median of
    its series' last runs (same game day, environment and timeline; `baseline` in the
    game day says how many and what a regression is); the report shows it.

    A game day with a budget_gate ({min_remaining: 0.25, source: prometheus, cloudwatch
    or newrelic}) reads each gated SLO's error budget left over its catalog period and
    does not start below the threshold, or when the budget cannot be read (exit 2); the
    dry run prints the budgets, the report keeps them.

    Exit codes: 0 every hypothesis held and every SLO met, 1 a hypothesis deviated or an
    SLO was missed (or, with --fail-on-regression, the run regressed), 2 bad input or preflight refused, 3 aborted (rollbacks ran). A failed
    upload is reported on stderr and leaves the game day's code as it is.
    """
    import shutil

    from chaoslib_edx.gameday.outputs import junit_destination, run_directory
    from chaoslib_edx.gameday.runner import GameDayRun
    from chaoslib_edx.gameday.schema import find_gameday, load_gameday
    from chaoslib_edx.report.upload import parse_s3_url, upload_run

    if upload:
        parse_s3_url(upload)
    junit_file = junit_destination(junit) if junit else None
    path = find_gameday(gameday)
    loaded = load_gameday(path, env_file)
    runner = GameDayRun(loaded, run_directory(path, out), confirm_production,
                        console=console, ignore_gate=list(ignore_gate))
    if dry_run:
        lines, ready = runner.dry_run()
        click.echo("\n".join(lines))
        sys.exit(0 if ready else EXIT_BAD_INPUT)
    outcome = runner.execute()
    if junit_file is not None:
        shutil.copyfile(outcome.run_dir / "junit.xml", junit_file)
    click.echo("\n".join(outcome.lines()))
    if upload:
        try:
            keys = upload_run(outcome.run_dir, upload)
            click.echo(f"uploaded {len(keys)} files to {upload.rstrip('/')}/"
                       f"{outcome.run_dir.name}/")
        except Exception as exc:  # the run and its report stand; say what did not
            click.echo(f"upload to {upload} FAILED: {type(exc).__name__}: {exc}", err=True)
    regressed = (outcome.summary.get("comparison") or {}).get("regressions")
    sys.exit(1 if fail_on_regression and regressed and outcome.code == 0 else outcome.code)


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--slos", "catalog", type=click.Path(dir_okay=False),
              help="SLO catalog to use instead of the copy the run kept (<run_dir>/slos.yaml).")
@click.option("--out", type=click.Path(file_okay=False),
              help="Capacity runs: write the report here instead of the run directory.")
def report(run_dir: str, catalog: str, out: str | None) -> None:
    """Render a run directory's report (index.html, summary.json/.md, junit.xml) from its
    files alone, the SLO catalog the run used included; works on a run that crashed
    half-way. A capacity run's (index.html, capacity.json/.md, junit.xml) too."""
    from chaoslib_edx.capacity.report import is_capacity_run
    from chaoslib_edx.capacity.report import render as render_capacity
    from chaoslib_edx.report.render import render

    if is_capacity_run(run_dir):
        found = render_capacity(run_dir, out)
        click.echo(f"report: {Path(out or run_dir) / 'index.html'} ({found['status']}, "
                   f"{len(found['sweeps'])} sweeps)")
        return
    if out:
        raise UserError("--out is for capacity runs; a game day's report is written into its "
                        "run directory", file=run_dir, field="--out")

    summary = render(run_dir, catalog)
    click.echo(f"report: {Path(run_dir) / 'index.html'} ({summary['status']}, "
               f"{len(summary['experiments'])} experiments)")


@click.command()
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="The environment whose pages to take.")
@click.option("--by", default=lambda: getpass.getuser(), show_default="your user name",
              help="Who acknowledges (the report shows it).")
def ack(env_file: str, by: str) -> None:
    """Acknowledge every open page, as the on-call does in PagerDuty's app.

    The sandbox's pages go to its own pager (an Events v2 receiver); a game day's report
    measures time to acknowledge from this. Against PagerDuty, acknowledge there instead.

    \b
      edx-gameday ack --by alice
    """
    from chaoslib_edx.context import environment_context

    taken, skipped = environment_context(env_file).platform.acknowledge(by)
    click.echo(f"ack: {len(taken)} pages acknowledged by {by}"
               + (f" ({', '.join(taken)})" if taken else "; none was open"))
    if skipped:
        click.echo(f"ack: warning: {skipped} lines of the pager's log are not events and "
                   "were skipped", err=True)
