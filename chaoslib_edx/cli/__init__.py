"""The `edx-gameday` command line: parses arguments and dispatches; the work is elsewhere.
One module per command group: sandbox, gameday (check, recover, run, report, ack),
capacity, load, slo, history (history, findings)."""

import os
import sys
import textwrap
import traceback

import click

from chaoslib_edx import __version__
from chaoslib_edx.cli.capacity import capacity
from chaoslib_edx.cli.gameday import ack, check, recover, report, run
from chaoslib_edx.cli.history import findings, history
from chaoslib_edx.cli.load import load
from chaoslib_edx.cli.sandbox import sandbox
from chaoslib_edx.cli.slo import slo
from chaoslib_edx.errors import EXIT_BAD_INPUT, UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="edx-gameday")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
def cli(debug: bool) -> None:
    """Chaos game days for an Open edX-scale platform.

    Start with the local sandbox, a small Open edX-like platform of real servers on
    127.0.0.1 (LMS replicas behind nginx, a CDN edge, MariaDB primary + replica, Redis,
    with Prometheus, Alertmanager and a pager watching it):

    \b
      edx-gameday sandbox up        start it (idempotent; waits until healthy)
      edx-gameday sandbox status    each component and its state
      edx-gameday sandbox smoke     one learner journey through LB and CDN
      edx-gameday sandbox down      stop everything; no process left behind

    Faults are Chaos Toolkit experiments (experiments/*.yaml, `chaos run`); each records
    its rollback in a ledger before acting, and `edx-gameday recover` runs what a crash
    left pending. A game day (`edx-gameday run`) plays several under load and reports
    the SLOs and what the monitoring caught: alerts, pages (`edx-gameday ack` takes
    them) and the faults no alert caught. `edx-gameday slo rules` writes the catalog's
    Prometheus alerts. `edx-gameday capacity` sweeps an open-model load to find the
    knee, normal and with a fault held live.

    Exit codes: 0 ok, 1 a check failed, 2 bad input, configuration or a guardrail's
    refusal (nothing was changed), 3 a game day aborted by an abort condition or a
    signal (rollbacks ran).
    """
    # --debug is read by main(), which handles the errors the commands raise.


for command in (sandbox, check, recover, run, report, capacity, load, slo, ack, history,
                findings):
    cli.add_command(command)


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
