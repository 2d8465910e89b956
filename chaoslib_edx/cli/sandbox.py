"""`edx-gameday sandbox ...`: the local sandbox platform's commands."""

import json
import sys
from collections.abc import Callable

import click

from chaoslib_edx.context import DEFAULT_ENVIRONMENT as DEFAULT_ENV


@click.group()
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
                            help="Override sandbox.port_base (the sandbox uses 30 ports from it).")


_force_option = click.option(
    "--force", is_flag=True,
    help="Go ahead while a game day, capacity run or experiment holds the environment (its "
         "results will not be trustworthy). down: that run is first stopped with SIGTERM, so "
         "it rolls back and reports. Written to <state_dir>/logs/sandbox.log.")


def _which_sandbox(command: Callable) -> Callable:
    """--env, --state-dir and --port-base: the options every sandbox command takes."""
    return _env_option(_state_option(_port_option(command)))


@sandbox.command()
@_which_sandbox
@_force_option
def up(env_file: str, state_dir: str | None, port_base: int | None, force: bool) -> None:
    """Start the sandbox, or whatever part of it is stopped; wait until it is healthy.

    A second `up` on a healthy sandbox changes nothing. The first one installs the
    databases, seeds courses and learners, and writes <state_dir>/inventory.yaml.
    Refused (exit 2) while a run holds the environment: starting what a fault stopped
    would undo it under that run.
    """
    from chaoslib_edx.sandbox import control
    from chaoslib_edx.sandbox.exclusive import exclusive
    from chaoslib_edx.sandbox.layout import layout_for

    layout = layout_for(env_file, state_dir, port_base)
    first = layout.settings.port_base
    click.echo(f"sandbox: starting in {layout.root} (ports {first}-"
               f"{first + layout.settings.PORT_SPAN - 1} on 127.0.0.1)", err=True)
    result = control.up(layout, env_file, hold=lambda: exclusive(
        env_file, layout, "up", force, lambda line: click.echo(line, err=True)))
    for what in result.cleared:
        click.echo(f"sandbox: cleared {what}")
    if result.already_up:
        click.echo(f"sandbox: already up and healthy ({result.seconds:.1f}s); nothing to do")
    else:
        click.echo(f"sandbox: up in {result.seconds:.1f}s (started {', '.join(result.started)});"
                   f" LMS {layout.lb_url}, CDN {layout.cdn_url}; inventory "
                   f"{layout.inventory_file}")


@sandbox.command()
@_which_sandbox
@_force_option
def down(env_file: str, state_dir: str | None, port_base: int | None, force: bool) -> None:
    """Stop every process of the sandbox, and a crashed game day's load against it; its
    data stays for the next `up`. Refused (exit 2) while a run holds the environment."""
    from chaoslib_edx.load.launcher import stop_recorded
    from chaoslib_edx.sandbox import control
    from chaoslib_edx.sandbox.exclusive import exclusive
    from chaoslib_edx.sandbox.layout import layout_for

    layout = layout_for(env_file, state_dir, port_base)
    with exclusive(env_file, layout, "down", force, lambda line: click.echo(line, err=True)):
        stopped = control.down(layout) + stop_recorded(layout.gameday_dir)
    click.echo(f"sandbox: down ({len(stopped)} processes stopped)")


@sandbox.command()
@_which_sandbox
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
@_which_sandbox
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
