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
    """


@history.command(name="import")
@click.argument("sources", nargs=-1, required=True)
@click.option("--env", "env_file", default=DEFAULT_ENV, show_default=True,
              type=click.Path(dir_okay=False), help="Whose history to import into.")
def import_(sources: tuple[str, ...], env_file: str) -> None:
    """Record run directories (or every run under an S3 prefix, as `run --upload` left
    them). Importing a run again changes nothing; a run whose report changed since (a
    crash re-rendered by `recover`) is updated."""
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.history.imports import records_from

    store = environment_context(env_file).platform.history()
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for source in sources:
        for record in records_from(source):
            outcome = store.record(record)
            counts[outcome] += 1
            click.echo(f"  {record['kind']:<9} {record['name']:<32} {record['started'] or '?':<26}"
                       f" {outcome}")
    click.echo("history: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


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
