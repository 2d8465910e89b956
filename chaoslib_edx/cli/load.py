"""`edx-gameday load ...`: turn recorded traffic into replay curves; stand by as a remote
worker."""

import click


@click.group()
def load() -> None:
    """Load profiles: replay curves from recorded traffic, and remote workers on standby."""


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


@load.command("worker")
@click.option("-f", "--locustfile", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The load profile: the one the game day's master runs.")
@click.option("--master-host", required=True, help="Where a game day's master listens.")
@click.option("--master-port", type=click.IntRange(1, 65535), default=5557, show_default=True)
def worker(locustfile: str, master_host: str, master_port: int) -> None:
    """Stand by as a remote Locust worker: wait for a game day's master, serve its run,
    and wait again when it ends; never exits on its own (SIGTERM stops it).

    What it sends is shaped by its own environment, read when each run starts:
    EDX_LEARNERS_FILE (who signs in), EDX_COURSE_KEYS, EDX_CDN_URL. The master refuses a
    worker whose settings or profile are not its own.

    \b
      EDX_LEARNERS_FILE=/etc/edx-gameday/learners/learners.csv \\
      EDX_COURSE_KEYS=course-v1:edX+DemoX+2026 EDX_CDN_URL=https://video.example.org \\
        edx-gameday load worker -f loadprofiles/course_launch.py \\
          --master-host edx-gameday-locust-master.edx-gameday.svc
    """
    from chaoslib_edx.load.standby import stand_by

    raise SystemExit(stand_by(locustfile, master_host, master_port,
                              say=lambda line: click.echo(line, err=True)))
