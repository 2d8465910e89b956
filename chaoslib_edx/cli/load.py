"""`edx-gameday load ...`: turn recorded traffic into replay curves."""

import click


@click.group()
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
