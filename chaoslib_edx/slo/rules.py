"""Prometheus recording and alerting rules for the catalog's server-side SLOs.

One rule group per SLO: its SLI error ratio recorded over each alerting window, the
metadata dashboards read, and one multi-window burn-rate alert per alerting rule (the SRE
workbook's), labelled with the rule's severity and the SLO and annotated with its runbook.
Recorded series are named and labelled as Sloth writes them (slo:sli_error:ratio_rate<w>
with sloth_id, sloth_service, sloth_slo and sloth_window; slo:objective:ratio,
slo:period_error_budget_remaining:ratio, ...), so Sloth's dashboards read them unchanged.
The SLIs come from the edge that serves the SLO's route classes (routes.SERVED_BY): the
LB's and the CDN edge's access logs through mtail see every learner request, those that
no LMS replica answered too.

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
    """A duration as Prometheus prints one (model.Duration): 30d, 4w, 1h30m, 25s. Sloth
    names its recorded windows this way, so the names match its dashboards'."""
    if seconds == 0:
        return "0s"
    text, rest = "", seconds
    for unit, size, exact in (("y", 365 * 86400, True), ("w", 7 * 86400, True),
                              ("d", 86400, False), ("h", 3600, False), ("m", 60, False),
                              ("s", 1, False)):
        if (not exact or rest % size == 0) and rest >= size:
            text += f"{rest // size}{unit}"
            rest %= size
    return text


def sloth_labels(catalog: Catalog, slo: Slo) -> dict[str, str]:
    """The labels that name SLO in every recorded series, as Sloth's do."""
    return {"sloth_id": f"{catalog.service}-{slo.name}", "sloth_service": catalog.service,
            "sloth_slo": slo.name}


def sli_record(window_s: int) -> str:
    """The name of the recorded error ratio over WINDOW_S seconds."""
    return f"slo:sli_error:ratio_rate{duration(window_s)}"


def edge_selector(slo: Slo, index: int, source: Path | str) -> str:
    """The label matchers of the one edge that serves SLO's route classes, or a UserError
    naming the catalog's field."""
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


def bucket_s(slo: Slo, index: int, source: Path | str) -> float:
    """The latency histograms' bucket (le, seconds) at SLO's threshold, or a UserError."""
    seconds = slo.indicator.threshold_ms / 1000
    if seconds not in LATENCY_BUCKETS_S:
        raise UserError(
            f"the server-side latency histograms have no bucket at {slo.indicator.threshold_ms:g}"
            f" ms (buckets: {', '.join(f'{b * 1000:g}' for b in LATENCY_BUCKETS_S)} ms)",
            file=source, field=f"slos.{index}.indicator.threshold_ms",
            fix="Use one of the buckets, or mark the SLO `measured: client`")
    return seconds


def sli_error_ratio(slo: Slo, window_s: int, index: int = 0,
                    source: Path | str = "the catalog") -> str:
    """PromQL: the share of SLO's events that were bad over the last WINDOW_S seconds."""
    where, window = edge_selector(slo, index, source), duration(window_s)
    indicator = slo.indicator
    if indicator.type == "latency":
        seconds = bucket_s(slo, index, source)
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


def _filter(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{name}="{value}"' for name, value in labels.items()) + "}"


def _metadata(catalog: Catalog, slo: Slo, shortest_s: int) -> list[dict]:
    """Sloth's metadata series: objective, budget, period, burn rates, budget remaining."""
    ids = sloth_labels(catalog, slo)
    labels, where, on = {**ids, **slo.labels}, _filter(ids), ", ".join(ids)
    period = round(slo.budget_period_s)
    short = sli_record(shortest_s)

    def burn(record: str) -> str:
        return f"{record}{where}\n/ on({on}) group_left\nslo:error_budget:ratio{where}"

    return [
        # The period's ratio from the shortest window's, as Sloth does: a rate over 30 days
        # would read every raw sample of the period at each evaluation.
        {"record": sli_record(period),
         "expr": f"sum_over_time({short}{where}[{duration(period)}])\n"
                 f"/ ignoring (sloth_window)\ncount_over_time({short}{where}[{duration(period)}])",
         "labels": {**ids, "sloth_window": duration(period), **slo.labels}},
        {"record": "slo:objective:ratio", "expr": f"vector({slo.objective:.10g})",
         "labels": labels},
        {"record": "slo:error_budget:ratio", "expr": f"vector(1-{slo.objective:.10g})",
         "labels": labels},
        {"record": "slo:time_period:days", "expr": f"vector({slo.budget_period_days:g})",
         "labels": labels},
        {"record": "slo:current_burn_rate:ratio", "expr": burn(short), "labels": labels},
        {"record": "slo:period_burn_rate:ratio", "expr": burn(sli_record(period)),
         "labels": labels},
        {"record": "slo:period_error_budget_remaining:ratio",
         "expr": f"1 - slo:period_burn_rate:ratio{where}", "labels": labels},
        {"record": "sloth_slo_info", "expr": "vector(1)",
         "labels": {**labels, "sloth_mode": "edx-gameday", "sloth_spec": "edx-gameday/slos",
                    "sloth_objective": f"{slo.objective * 100:.10g}"}},
    ]


def _group(catalog: Catalog, slo: Slo, index: int, source: Path | str,
           compress_for_s: float | None, scrape_interval_s: float) -> dict:
    if slo.runbook_url is None:
        raise UserError(f"the SLO '{slo.name}' has alerts but no runbook", file=source,
                        field=f"slos.{index}.runbook_url",
                        fix="Add the URL of the page the on-call reads when it fires")
    windows = {rule.name: _windows(slo, rule, compress_for_s, scrape_interval_s)
               for rule in slo.alerting}
    budget = f"{slo.error_budget:.10g}"
    ids = sloth_labels(catalog, slo)
    recorded = sorted({w for pair in windows.values() for w in pair})
    rules: list[dict] = [
        {"record": sli_record(w), "expr": sli_error_ratio(slo, w, index, source),
         "labels": {**ids, "sloth_window": duration(w), **slo.labels}}
        for w in recorded]
    rules += _metadata(catalog, slo, recorded[0])
    for rule in slo.alerting:
        long, short = windows[rule.name]
        burning = [f"{sli_record(w)}{_filter(ids)} >= {rule.burn_rate:g} * {budget}"
                   for w in (long, short)]
        rules.append({
            "alert": f"{_camel(slo.name)}BudgetBurn",
            "expr": "\nand ignoring (sloth_window)\n".join(burning),
            "labels": {**slo.labels, "severity": rule.severity, "slo": slo.name,
                       "rule": rule.name},
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
    return {"groups": [_group(catalog, slo, index, source, compress_for_s, scrape_interval_s)
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
    """PromQL of several lines as YAML literal blocks, as people write rules files; each
    rule's labels written out, not as YAML aliases of another's."""

    def ignore_aliases(self, data: object) -> bool:
        return True


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))
