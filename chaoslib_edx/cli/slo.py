"""`edx-gameday slo ...`: the SLO catalog as the monitoring sees it."""

import click


@click.group()
def slo() -> None:
    """The SLO catalog (gamedays/slos.yaml) turned into what a monitoring system runs."""


@slo.command("rules")
@click.option("--slos", "catalog", type=click.Path(dir_okay=False),
              help="SLO catalog [default: gamedays/slos.yaml, else the shipped one].")
@click.option("--out", type=click.Path(dir_okay=False),
              help="File to write [default: standard output].")
@click.option("--compress-for", "compress_for", type=click.IntRange(min=10), metavar="SECONDS",
              help="Scale the alerting windows for a game day this long, as the game-day "
                   "evaluator does [default: the catalog's own windows].")
@click.option("--scrape-interval", type=click.FloatRange(min=0.1, max=300), default=15,
              show_default=True, metavar="SECONDS",
              help="Prometheus's scrape interval; compressed windows keep 4 of them at least.")
def rules(catalog: str | None, out: str | None, compress_for: int | None,
          scrape_interval: float) -> None:
    """Prometheus recording and alerting rules for every SLO a server can measure:
    multi-window, multi-burn-rate alerts (page and ticket) from the catalog's windows and
    burn rates, each with the SLO's severity, name and runbook_url.

    \b
      edx-gameday slo rules --out slo-rules.yaml && promtool check rules slo-rules.yaml
      edx-gameday slo rules --compress-for 480 --scrape-interval 1   # the sandbox's

    SLOs marked `measured: client` are left out (only the load sees them).
    """
    from chaoslib_edx.files import default_file, output_file, replace_text
    from chaoslib_edx.slo.catalog import DEFAULT_CATALOG, load_catalog
    from chaoslib_edx.slo.rules import render

    source = catalog or default_file(DEFAULT_CATALOG)
    destination = output_file(out, "--out") if out else None
    text = render(load_catalog(source), source, compress_for, scrape_interval)
    if destination is None:
        click.echo(text, nl=False)
    else:
        replace_text(destination, text)
        click.echo(f"slo rules: wrote {out}", err=True)
