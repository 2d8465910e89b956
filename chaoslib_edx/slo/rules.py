"""Prometheus recording and alerting rules for the catalog's server-side SLOs.

One rule group per SLO: its SLI error ratio recorded over each alerting window, and one
multi-window burn-rate alert per alerting rule (the SRE workbook's), labelled with the
rule's severity and the SLO and annotated with its runbook. The SLIs come from the edge
that serves the SLO's route classes (routes.SERVED_BY): the LB's and the CDN edge's access
logs through mtail see every learner request, those that no LMS replica answered too.

A compressed game day scales the windows with the evaluator's rule (evaluator.scaled),
floored at MIN_SAMPLES scrape intervals: rate() needs several samples in a window.
"""

from pathlib import Path

import yaml

from chaoslib_edx.errors import UserError
from chaoslib_edx.routes import LATENCY_BUCKETS_S, SERVED_BY
from chaoslib_edx.slo.catalog import AlertRule, Catalog, Slo
from chaoslib_edx.slo.evaluator import scaled

REQUESTS = "edx_http_requests_total"
LATENCY = "edx_http_request_duration_seconds"
# Bad statuses as the server sees them: a failure is any error answer (the load's
# failures also include connection errors, which an access log shows as 499/502/504).
BAD_STATUS = {"server_errors": "5..", "failures": "[45].."}
MIN_SAMPLES = 4


def duration(seconds: int) -> str:
    """A Prometheus duration: 1h, 5m, 25s."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _selector(slo: Slo, index: int, source: Path | str) -> str:
    tiers = {SERVED_BY[cls] for cls in slo.indicator.route_classes if cls in SERVED_BY}
    other = [cls for cls in slo.indicator.route_classes if cls not in SERVED_BY]
    if other or len(tiers) != 1:
        raise UserError(f"the SLO '{slo.name}' has no server-side indicator: its route "
                        f"classes {list(slo.indicator.route_classes)} are not all served by "
                        "one edge (lb: auth, lms, api, tracking; cdn: video)",
                        file=source, field=f"slos.{index}.indicator.route_classes",
                        fix="Split it into one SLO per edge, or mark it `measured: client`")
    classes = "|".join(slo.indicator.route_classes)
    return f'tier="{tiers.pop()}",route_class=~"{classes}"'


def sli_error_ratio(slo: Slo, window_s: int, index: int = 0,
                    source: Path | str = "the catalog") -> str:
    """PromQL: the share of SLO's events that were bad over the last WINDOW_S seconds."""
    where, window = _selector(slo, index, source), duration(window_s)
    indicator = slo.indicator
    if indicator.type == "latency":
        seconds = indicator.threshold_ms / 1000
        if seconds not in LATENCY_BUCKETS_S:
            raise UserError(
                f"the server-side latency histograms have no bucket at {indicator.threshold_ms:g}"
                f" ms (buckets: {', '.join(f'{b * 1000:g}' for b in LATENCY_BUCKETS_S)} ms)",
                file=source, field=f"slos.{index}.indicator.threshold_ms",
                fix="Use one of the buckets, or mark the SLO `measured: client`")
        return (f'1 - sum(rate({LATENCY}_bucket{{{where},le="{seconds:g}"}}[{window}]))\n'
                f"  / sum(rate({LATENCY}_count{{{where}}}[{window}]))")
    bad = BAD_STATUS[indicator.bad]
    return (f'(sum(rate({REQUESTS}{{{where},status=~"{bad}"}}[{window}])) or vector(0))\n'
            f"  / sum(rate({REQUESTS}{{{where}}}[{window}]))")


def _windows(slo: Slo, rule: AlertRule, compress_for_s: float | None,
             scrape_interval_s: float) -> tuple[int, int]:
    if compress_for_s is None:
        return rule.long_s, rule.short_s
    return scaled(slo, rule, compress_for_s, max(2, round(MIN_SAMPLES * scrape_interval_s)))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _group(slo: Slo, index: int, source: Path | str, compress_for_s: float | None,
           scrape_interval_s: float) -> dict:
    if slo.runbook_url is None:
        raise UserError(f"the SLO '{slo.name}' has alerts but no runbook", file=source,
                        field=f"slos.{index}.runbook_url",
                        fix="Add the URL of the page the on-call reads when it fires")
    windows = {rule.name: _windows(slo, rule, compress_for_s, scrape_interval_s)
               for rule in slo.alerting}
    budget = f"{slo.error_budget:.10g}"
    recorded = sorted({w for pair in windows.values() for w in pair})
    rules: list[dict] = [
        {"record": f"slo:sli_error:ratio_rate{duration(w)}",
         "expr": sli_error_ratio(slo, w, index, source), "labels": {"slo": slo.name}}
        for w in recorded]
    for rule in slo.alerting:
        long, short = windows[rule.name]
        burning = [f'slo:sli_error:ratio_rate{duration(w)}{{slo="{slo.name}"}}'
                   f" >= {rule.burn_rate:g} * {budget}" for w in (long, short)]
        rules.append({
            "alert": f"{_camel(slo.name)}BudgetBurn",
            "expr": "\nand\n".join(burning),
            "labels": {"severity": rule.severity, "slo": slo.name, "rule": rule.name},
            "annotations": {
                "summary": f"{slo.title}: error budget burning at {rule.burn_rate:g}x or "
                           f"faster over {duration(long)} and {duration(short)}",
                "description": f"Objective {slo.objective:.10g} over "
                               f"{slo.budget_period_days:g} days; at this rate its budget "
                               f"lasts {slo.budget_period_days / rule.burn_rate:.3g} days.",
                "runbook_url": str(slo.runbook_url)},
        })
    return {"name": f"slo:{slo.name}", "rules": rules}


def generate(catalog: Catalog, source: Path | str, compress_for_s: float | None = None,
             scrape_interval_s: float = 1.0) -> dict:
    """The rules file for CATALOG (read from SOURCE, named in errors); COMPRESS_FOR_S:
    the game day's length its windows are scaled for (None: the catalog's own)."""
    return {"groups": [_group(slo, index, source, compress_for_s, scrape_interval_s)
                       for index, slo in enumerate(catalog.slos) if slo.measured == "server"]}


def render(catalog: Catalog, source: Path | str, compress_for_s: float | None = None,
           scrape_interval_s: float = 1.0) -> str:
    """The rules file as YAML, headed by where it came from."""
    scale = (f"windows compressed for a {compress_for_s:g} s game day"
             if compress_for_s else "the catalog's own windows")
    skipped = [slo.name for slo in catalog.slos if slo.measured != "server"]
    head = [f"# Generated by `edx-gameday slo rules` from {source} ({scale}).",
            "# Check: promtool check rules <this file>"]
    if skipped:
        head.append(f"# Measured by the load only, so not here: {', '.join(skipped)}.")
    rules = generate(catalog, source, compress_for_s, scrape_interval_s)
    return "\n".join(head) + "\n" + yaml.dump(rules, Dumper=_Dumper, sort_keys=False, width=100)


class _Dumper(yaml.SafeDumper):
    """PromQL of several lines as YAML literal blocks, as people write rules files."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))
