"""`edx-gameday history import|show`: the runs an environment has recorded."""

import click

from chaoslib_edx.context import DEFAULT_ENVIRONMENT as DEFAULT_ENV


@click.group()
def history() -> None:
    """Every game day and capacity run, recorded in the environment's history database.

    Runs are recorded as they end (and a crashed one when `recover` reports it); import
    brings in runs made elsewhere or before. The database is SQLite in the environment's
    state dir unless the inventory's history.url names another (PostgreSQL, password
    from the environment variable history.password_env).

    \b
      edx-gameday history import reports/*/ s3://gameday-reports/staging
      edx-gameday history show --gameday "Course launch"
      edx-gameday history report --out history-report/
    """


@history.command(name="import")
@click.argument("sources", nargs=-1, required=True)
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="Whose history to import into.")
@click.option("--fail-on-regression", is_flag=True,
              help="Exit 1 when a run imported regressed against its series' earlier runs.")
def import_(sources: tuple[str, ...], env_file: str, fail_on_regression: bool) -> None:
    """Record run directories (or every run under an S3 prefix, as `run --upload` left
    them), oldest first, each compared with its series' earlier runs (the default
    baseline). Importing a run again changes nothing; a run whose report changed since
    (a crash re-rendered by `recover`) is updated."""
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.history.imports import records_from
    from chaoslib_edx.history.record import against_history

    store = environment_context(env_file).platform.history()
    counts, regressed = {"added": 0, "updated": 0, "unchanged": 0}, 0
    records = sorted((r for source in sources for r in records_from(source)),
                     key=lambda r: r["started"] or "")
    for record in records:
        outcome = store.record(record)
        counts[outcome] += 1
        click.echo(f"  {record['kind']:<9} {record['name']:<32} {record['started'] or '?':<26}"
                   f" {outcome}")
        for regression in against_history(store, record, None)["regressions"]:
            regressed += 1
            click.echo(f"    REGRESSION: {regression['text']}")
    click.echo("history: " + ", ".join(f"{n} {k}" for k, n in counts.items())
               + (f"; {regressed} regressions" if regressed else ""))
    if fail_on_regression and regressed:
        raise SystemExit(1)


@history.command()
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="Whose history to read.")
@click.option("--environment", help="Only runs against this environment (its name).")
@click.option("--gameday", "name", help="Only this game day's or capacity plan's runs.")
def show(env_file: str, environment: str | None, name: str | None) -> None:
    """A table of the runs recorded, oldest first: per game day each experiment's
    detection and time to detect and the budget burned; per capacity run each knee."""
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.history.table import lines

    runs = environment_context(env_file).platform.history().runs(environment, name)
    click.echo("\n".join(lines(runs)) if runs else "history: no run recorded")


@history.command(name="report")
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="Whose history to draw.")
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Where to write index.html.")
def report_(env_file: str, out: str) -> None:
    """An HTML page of the history: per game day each experiment's time to detect and
    each SLO's budget burned over its runs, per capacity plan each sweep's knee, and the
    findings with their status."""
    from pathlib import Path

    from chaoslib_edx.context import environment_context
    from chaoslib_edx.history.trends import render_trends

    runs = environment_context(env_file).platform.history().runs()
    click.echo(f"history report: {render_trends(runs, Path(out))} ({len(runs)} runs)")


@click.group()
def findings() -> None:
    """What runs showed wrong, followed across runs: an undetected fault, a hypothesis
    that deviated, an SLO missed, a knee below the headroom target. A finding is "new"
    the first time, "still open" while later runs show it, "fixed" at the first run that
    ran its step and no longer shows it.

    \b
      edx-gameday findings list --env gamedays/environments/staging.yaml
      edx-gameday findings export --jira --env gamedays/environments/staging.yaml
    """


@findings.command(name="list")
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="Whose history to read.")
@click.option("--gameday", "name", help="Only this game day's or capacity plan's.")
@click.option("--all", "everything", is_flag=True, help="Fixed findings too.")
def list_(env_file: str, name: str | None, everything: bool) -> None:
    """Each finding of the environment's runs, as of its game day's last run."""
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.history.findings import lifecycle

    platform = environment_context(env_file).platform
    runs = platform.history().runs(platform.environment.name, name)
    shown = 0
    for game in sorted({run["name"] for run in runs}):
        for finding in lifecycle([run for run in runs if run["name"] == game]):
            if everything or finding["status"] != "fixed":
                shown += 1
                click.echo(f"  {finding['status']:<10} {game}: {finding['text']} (opened "
                           f"{finding['opened'] or '?'}, {finding['age_days']} days; seen in "
                           f"{finding['seen']} runs"
                           + (f"; fixed by {finding['fixed_run']}" if finding["fixed_run"]
                              else "") + ")")
    click.echo(f"findings: {shown} {'in all' if everything else 'open'}")


@findings.command()
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="Whose findings, and whose jira section.")
@click.option("--jira", "to_jira", is_flag=True,
              help="File them in the inventory's Jira project (token from jira.token_env).")
def export(env_file: str, to_jira: bool) -> None:
    """File each open finding not filed yet as an issue (its key is remembered), and
    comment on an issue when a later run shows its finding fixed. Safe to repeat."""
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.errors import UserError
    from chaoslib_edx.history.jira import Jira
    from chaoslib_edx.history.jira import export as file_findings

    if not to_jira:
        raise UserError("say where to: --jira (the only tracker so far)", field="--jira")
    platform = environment_context(env_file).platform
    settings = platform.environment.jira
    if settings is None:
        raise UserError("no 'jira' section: where would findings go?", file=env_file,
                        field="jira")
    try:
        created, commented = file_findings(platform.history(), Jira(settings),
                                           platform.environment.name,
                                           lambda line: click.echo(f"  {line}"))
    except UserError as exc:
        raise UserError(exc.message, file=env_file, field=exc.field) from None
    click.echo(f"findings: {created} filed, {commented} commented as fixed")
