"""`edx-gameday slo ...`: the SLO catalog as the monitoring sees it."""

from pathlib import Path

import click


@click.group()
def slo() -> None:
    """The SLO catalog (gamedays/slos.yaml) turned into what a monitoring system runs, and
    OpenSLO documents in and out."""


def _emit(text: str, out: str | None, said: str) -> None:
    """TEXT to the file OUT (atomically, saying SAID on stderr), or to standard output."""
    from chaoslib_edx.files import replace_text

    if out is None:
        click.echo(text, nl=False)
    else:
        replace_text(Path(out), text)
        click.echo(said, err=True)


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
    from chaoslib_edx.files import default_file, output_file
    from chaoslib_edx.slo.catalog import DEFAULT_CATALOG, load_catalog
    from chaoslib_edx.slo.rules import render

    source = catalog or default_file(DEFAULT_CATALOG)
    if out:
        output_file(out, "--out")
    text = render(load_catalog(source), source, compress_for, scrape_interval)
    _emit(text, out, f"slo rules: wrote {out}")


@slo.command("export")
@click.option("--slos", "catalog", type=click.Path(dir_okay=False),
              help="SLO catalog [default: gamedays/slos.yaml, else the shipped one].")
@click.option("--out", type=click.Path(dir_okay=False),
              help="File to write [default: standard output].")
def export(catalog: str | None, out: str | None) -> None:
    """The catalog as OpenSLO v1 documents: a Service, and per SLO an SLI (a ratio of
    counters: Prometheus queries over the edges' request counters, or the load's own
    counts for an SLO marked `measured: client`) and an SLO (Occurrences budgeting over a
    rolling window, one objective). Runbook, time to detect, latency percentile and
    alerting tiers that differ from the workbook's travel as `chaostoolkit-edx/`
    annotations, so `slo import` reads the export back unchanged.

    \b
      edx-gameday slo export --out openslo.yaml
    """
    from chaoslib_edx.files import default_file, output_file
    from chaoslib_edx.slo.catalog import DEFAULT_CATALOG, load_catalog
    from chaoslib_edx.slo.openslo import render

    source = catalog or default_file(DEFAULT_CATALOG)
    if out:
        output_file(out, "--out")
    _emit(render(load_catalog(source), source), out, f"slo export: wrote {out}")


@slo.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False),
              help="Catalog file to write [default: standard output].")
def import_(files: tuple[str, ...], out: str | None) -> None:
    """Read OpenSLO v1 SLO and SLI documents (and a Service) into the catalog's format.

    \b
    Read: SLO documents with Occurrences budgeting, one rolling timeWindow (m, h, d or w)
    and one objective target; their indicator inline or by indicatorRef to an SLI
    document of the files; the SLI a ratioMetric of counters (counter: true) whose good
    or bad and total are Prometheus queries summing one edge's counters:
      bad:   sum(edx_http_requests_total{tier="lb",route_class=~"lms|api",status=~"5.."})
      total: sum(edx_http_requests_total{tier="lb",route_class=~"lms|api"})
    (status!~ in good; status "[45].." for failures), or for latency
      good:  sum(edx_http_request_duration_seconds_bucket{tier="lb",route_class=~"api",le="0.5"})
      total: sum(edx_http_request_duration_seconds_count{tier="lb",route_class=~"api"})
    or the metric source `edx-gameday-load` for what only learners see.

    Anything else (Timeslices, calendar windows, threshold or raw metrics, other metric
    sources, alert policies, annotations not ours) is refused with exit 2, naming the
    file, the document and the field; nothing is written. Descriptive text the catalog
    has no place for is listed as not kept.

    \b
      edx-gameday slo import team-slos.yaml --out gamedays/slos.yaml
    """
    from chaoslib_edx.files import output_file
    from chaoslib_edx.slo.openslo import import_documents, render_catalog

    if out:
        output_file(out, "--out")
    sources = [Path(f) for f in files]
    imported = import_documents(sources)
    for note in imported.notes:
        click.echo(f"slo import: {note}", err=True)
    _emit(render_catalog(imported, sources), out,
          f"slo import: wrote {out} ({len(imported.catalog.slos)} SLOs)")
