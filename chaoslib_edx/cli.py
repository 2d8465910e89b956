"""The `edx-gameday` command line: parses arguments and dispatches; the work is elsewhere."""

import json
import os
import sys
import textwrap
import traceback
from pathlib import Path

import click

from chaoslib_edx import __version__
from chaoslib_edx.configuration import DEFAULT_ENVIRONMENT as DEFAULT_ENV
from chaoslib_edx.errors import EXIT_BAD_INPUT, UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="edx-gameday")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
def cli(debug: bool) -> None:
    """Chaos game days for an Open edX-scale platform.

    Start with the local sandbox, a small Open edX-like platform of real servers on
    127.0.0.1 (LMS replicas behind nginx, a CDN edge, MariaDB primary + replica, Redis):

    \b
      edx-gameday sandbox up        start it (idempotent; waits until healthy)
      edx-gameday sandbox status    each component and its state
      edx-gameday sandbox smoke     one learner journey through LB and CDN
      edx-gameday sandbox down      stop everything; no process left behind

    Faults are Chaos Toolkit experiments (experiments/*.yaml, `chaos run`); each records
    its rollback in a ledger before acting, and `edx-gameday recover` runs what a crash
    left pending.

    Exit codes: 0 ok, 1 a check failed, 2 bad input, configuration or a guardrail's
    refusal (nothing was changed), 3 a game day aborted by an abort condition or a
    signal (rollbacks ran).
    """
    # --debug is read by main(), which handles the errors the commands raise.


@cli.group()
def sandbox() -> None:
    """Run the local sandbox platform (state in one directory, ports from one base)."""


_env_option = click.option(
    "--env", "env_file", default=DEFAULT_ENV, show_default=True, type=click.Path(dir_okay=False),
    help="Environment inventory with a 'sandbox' section (the shipped one when the default "
         "is not in the working directory).")
_state_option = click.option("--state-dir", type=click.Path(file_okay=False),
                             help="Override sandbox.state_dir of the environment file (relative "
                                  "to the working directory, unlike the file's own).")
_port_option = click.option("--port-base", type=int,
                            help="Override sandbox.port_base (the sandbox uses 20 ports from it).")


@sandbox.command()
@_env_option
@_state_option
@_port_option
def up(env_file: str, state_dir: str | None, port_base: int | None) -> None:
    """Start the sandbox, or whatever part of it is stopped; wait until it is healthy.

    A second `up` on a healthy sandbox changes nothing. The first one installs the
    databases, seeds courses and learners, and writes <state_dir>/inventory.yaml.
    """
    from chaoslib_edx.sandbox import control
    from chaoslib_edx.sandbox.layout import layout_for

    layout = layout_for(env_file, state_dir, port_base)
    click.echo(f"sandbox: starting in {layout.root} (ports {layout.settings.port_base}-"
               f"{layout.settings.port_base + 19} on 127.0.0.1)", err=True)
    result = control.up(layout, env_file)
    if result.already_up:
        click.echo(f"sandbox: already up and healthy ({result.seconds:.1f}s); nothing to do")
    else:
        click.echo(f"sandbox: up in {result.seconds:.1f}s (started {', '.join(result.started)});"
                   f" LMS {layout.lb_url}, CDN {layout.cdn_url}; inventory "
                   f"{layout.inventory_file}")


@sandbox.command()
@_env_option
@_state_option
@_port_option
def down(env_file: str, state_dir: str | None, port_base: int | None) -> None:
    """Stop every process of the sandbox, and a crashed game day's load against it; its
    data stays for the next `up`."""
    from chaoslib_edx.load.launcher import stop_recorded
    from chaoslib_edx.platforms import platform_of
    from chaoslib_edx.sandbox import control
    from chaoslib_edx.sandbox.layout import layout_for

    layout = layout_for(env_file, state_dir, port_base)
    stopped = control.down(layout) + stop_recorded(platform_of(env_file).state_dir())
    click.echo(f"sandbox: down ({len(stopped)} processes stopped)")


@sandbox.command()
@_env_option
@_state_option
@_port_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status(env_file: str, state_dir: str | None, port_base: int | None, as_json: bool) -> None:
    """Show each component and its state; exit 0 only when all are healthy."""
    from chaoslib_edx.sandbox import control, health
    from chaoslib_edx.sandbox.layout import layout_for

    layout = layout_for(env_file, state_dir, port_base)
    report = {**health.status(layout), "rss_bytes": control.rss_bytes(layout)}
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(health.describe(report)))
    sys.exit(0 if report["state"] == "healthy" else 1)


@sandbox.command()
@_env_option
@_state_option
@_port_option
def smoke(env_file: str, state_dir: str | None, port_base: int | None) -> None:
    """Walk one learner through login, dashboard, enrollment, courseware, a problem and a video."""
    from chaoslib_edx.sandbox import health
    from chaoslib_edx.sandbox.layout import layout_for

    layout = layout_for(env_file, state_dir, port_base)
    rows = health.smoke(layout)
    for row in rows:
        click.echo(f"  {row['step']:<14} {row['status']:>3}  {row['ms']:>7.1f} ms")
    failed = [r["step"] for r in rows if not r["ok"]]
    click.echo("smoke: " + ("all steps passed" if not failed else "FAILED: " + ", ".join(failed)))
    sys.exit(1 if failed else 0)


@cli.command()
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


@cli.command()
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="The environment the faults were applied to.")
@click.option("--ledger", type=click.Path(dir_okay=False),
              help="A ledger file named by EDX_LEDGER for the run (default: the "
                   "environment's own, in its state dir or its state backend).")
def recover(env_file: str, ledger: str | None) -> None:
    """Run every rollback still pending in the recovery ledger (after a crash or SIGKILL).

    Each fault records its rollback before it acts; this stops the load a crashed run
    left, then runs what never ran, newest first. Works from any directory: the lock,
    the ledger and the load's pidfile belong to the environment. Safe to repeat: with
    nothing pending it does nothing. Refused (exit 2) while a game day runs against the
    environment. Exit 1 if a rollback failed.

    \b
      edx-gameday recover --env /srv/gamedays/environments/staging.yaml
    """
    from chaoslib_edx.recovery.recover import recover as run_pending

    recovery = run_pending(env_file, ledger)
    path, results = recovery.ledger, recovery.results
    if recovery.crashed_run:
        click.echo(f"  the run in {recovery.crashed_run} had crashed: its report now says so")
    if recovery.load_stopped:
        click.echo(f"  stopped the load a crashed run left: pids "
                   f"{', '.join(map(str, recovery.load_stopped))}")
    for result in results:
        state = "ok" if result["ok"] else f"FAILED: {result['error']}"
        click.echo(f"  {result['rollback']:<50} {state}")
    failed = [r for r in results if not r["ok"]]
    click.echo(f"recover: {len(results) - len(failed)} rollbacks ran, {len(failed)} failed, "
               f"ledger {path}" if results else f"recover: nothing pending in {path}")
    sys.exit(1 if failed else 0)


@cli.command()
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
def run(gameday: str, env_file: str | None, out: str | None, dry_run: bool, junit: str | None,
        confirm_production: str | None) -> None:
    """Run a game day: one load, a timeline of experiments, SLOs watched, a report.

    GAMEDAY is a game-day file, or the name of one shipped with the package
    (course-launch). Paths inside it are relative to its own directory.

    Everything is validated first (game day, environment, SLO catalog, experiments):
    errors name the file and field, exit 2, nothing changed. Then preflight: an
    environment lock, guardrails, no rollback pending, healthy targets. The load runs
    in its own process; each experiment runs through chaoslib at its offset while the
    SLOs are evaluated every second; an abort condition stops the game day and rolls
    back. SIGINT/SIGTERM roll back too. The report is written in every case.

    \b
      edx-gameday run gamedays/course-launch.yaml --dry-run
      edx-gameday run gamedays/course-launch.yaml --junit junit.xml

    Exit codes: 0 every hypothesis held and every SLO met, 1 a hypothesis deviated or an
    SLO was missed, 2 bad input or preflight refused, 3 aborted (rollbacks ran).
    """
    import shutil

    from chaoslib_edx.gameday.runner import GameDayRun, junit_destination, run_directory
    from chaoslib_edx.gameday.schema import find_gameday, load_gameday

    junit_file = junit_destination(junit) if junit else None
    path = find_gameday(gameday)
    loaded = load_gameday(path, env_file)
    runner = GameDayRun(loaded, run_directory(path, out), confirm_production)
    if dry_run:
        lines, ready = runner.dry_run()
        click.echo("\n".join(lines))
        sys.exit(0 if ready else EXIT_BAD_INPUT)
    outcome = runner.execute()
    if junit_file is not None:
        shutil.copyfile(outcome.run_dir / "junit.xml", junit_file)
    click.echo("\n".join(outcome.lines()))
    sys.exit(outcome.code)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--slos", "catalog", type=click.Path(dir_okay=False),
              help="SLO catalog to use instead of the copy the run kept (<run_dir>/slos.yaml).")
def report(run_dir: str, catalog: str) -> None:
    """Render a run directory's report (index.html, summary.json/.md, junit.xml) from its
    files alone, the SLO catalog the run used included; works on a run that crashed
    half-way."""
    from chaoslib_edx.report.render import render

    summary = render(run_dir, catalog)
    click.echo(f"report: {Path(run_dir) / 'index.html'} ({summary['status']}, "
               f"{len(summary['experiments'])} experiments)")


@cli.group()
def load() -> None:
    """Load profiles: turn recorded traffic into curves the replay profile plays back."""


@load.command("import-access-log")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="CSV to write (offset_s,rps), for loadprofiles/enrollment_peak.py --curve.")
@click.option("--per", type=click.Choice(["second", "minute"]), default="second",
              show_default=True, help="Bucket size of the rate.")
def import_access_log(log: str, out: str, per: str) -> None:
    """Make a replay curve from an nginx ([$time_local]) or AWS ALB access log.

    \b
      edx-gameday load import-access-log /var/log/nginx/access.log --out peak.csv --per minute
      locust -f loadprofiles/enrollment_peak.py --curve peak.csv --scale 2.5 ...
    """
    from chaoslib_edx.files import output_file
    from chaoslib_edx.load.accesslog import import_access_log as parse
    from chaoslib_edx.load.accesslog import write_curve

    destination = output_file(out, "--out")  # before the log is read, not after
    rows = parse(log, 60 if per == "minute" else 1)
    write_curve(rows, destination)
    peak = max(rate for _, rate in rows)
    click.echo(f"load: wrote {out}: {len(rows)} buckets of one {per}, "
               f"{rows[-1][0] + (60 if per == 'minute' else 1)}s, peak {peak:g} requests/s")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: user errors as one paragraph with exit 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        try:
            cli.main(args=argv, prog_name="edx-gameday", standalone_mode=False)
            sys.stdout.flush()  # a reader that went away (`| head -1`) shows here, not at exit
        except SystemExit as exc:
            # Click meets a gone reader (EPIPE) itself: it wraps stdout and exits 1, which
            # reads as a failure. It is not one: exit as a pipeline's writer does.
            if exc.code == 1 and type(sys.stdout).__name__ == "_PacifyFlushWrapper":
                raise BrokenPipeError from None
            raise
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except UserError as exc:
        # Paths stay whole (no break at their hyphens), so they can be copied from the error.
        click.echo(textwrap.fill(f"edx-gameday: error: {exc}", width=100,
                                 break_on_hyphens=False, break_long_words=False), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except BrokenPipeError:
        # The reader is gone: end quietly, as a pipeline's writer does (128 + SIGPIPE).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # anything else: one line, traceback with --debug
        if "--debug" in argv:
            traceback.print_exc()
        click.echo(f"edx-gameday: failed: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(1)
