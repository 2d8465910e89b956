"""OpenSLO v1 in and out of the SLO catalog (https://openslo.com, spec v1).

Export writes a Service document and, per SLO, an SLI (a ratio of counters) and an SLO
that references it (Occurrences budgeting over a rolling window, one objective). The
indicator is the one the monitoring measures: Prometheus queries over the edges' request
counters (routes.SERVED_BY), or, for an SLO only learners can see (`measured: client`),
a metric source of type `edx-gameday-load`: the load generator's own counts. What OpenSLO
has no field for (runbook, time to detect, latency percentile, alerting tiers) travels as
annotations under `chaostoolkit-edx/`, so an export imports back unchanged.

Import reads those shapes, written by us or by hand, and refuses with exit 2, naming the
file, the document and the field, anything the catalog cannot hold: other budgeting
methods, calendar windows, threshold or raw metrics, other metric sources, queries outside
the edges' counters. Text that describes rather than defines (a Service's or an
objective's displayName and description) is not kept; `notes` says which.
"""

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import promql_parser
import yaml
from pydantic import ValidationError

from chaoslib_edx.errors import UserError
from chaoslib_edx.routes import LATENCY_BUCKETS_S, SERVED_BY
from chaoslib_edx.slo.catalog import DEFAULT_ALERTING, SERVICE_NAME, AlertRule, Catalog, Slo
from chaoslib_edx.slo.rules import BAD_STATUS, LATENCY, REQUESTS, bucket_s, edge_selector

API_VERSION = "openslo/v1"
PREFIX = "chaostoolkit-edx/"  # annotations for what OpenSLO has no field for
ANNOTATIONS = ("runbook-url", "mttd-s", "percentile", "alerting")
LOAD_SOURCE = "edx-gameday-load"
DAY_S = 86400
# OpenSLO's duration shorthand: a number and one unit. Months, quarters and years have
# no fixed length in a rolling window, so they are refused rather than guessed.
UNITS_S = {"m": 60, "h": 3600, "d": DAY_S, "w": 7 * DAY_S}


# Export -------------------------------------------------------------------------------


def export(catalog: Catalog, source: Path | str) -> list[dict]:
    """CATALOG (read from SOURCE, named in errors) as OpenSLO v1 documents."""
    docs = [{"apiVersion": API_VERSION, "kind": "Service",
             "metadata": {"name": catalog.service}, "spec": {}}]
    for index, slo in enumerate(catalog.slos):
        docs.append({"apiVersion": API_VERSION, "kind": "SLI",
                     "metadata": {"name": slo.name},
                     "spec": {"ratioMetric": _ratio_metric(slo, index, source)}})
        metadata: dict = {"name": slo.name, "displayName": slo.title}
        if slo.labels:
            metadata["labels"] = dict(slo.labels)
        metadata["annotations"] = _annotations(slo)
        spec: dict = {"description": slo.description} if slo.description else {}
        spec.update({"service": catalog.service, "indicatorRef": slo.name,
                     "budgetingMethod": "Occurrences",
                     "timeWindow": [{"duration": _shorthand(slo, index, source),
                                     "isRolling": True}],
                     "objectives": [{"target": slo.objective}]})
        docs.append({"apiVersion": API_VERSION, "kind": "SLO", "metadata": metadata,
                     "spec": spec})
    return docs


def render(catalog: Catalog, source: Path | str) -> str:
    """The export as one YAML stream, headed by where it came from."""
    head = f"# OpenSLO v1, exported by `edx-gameday slo export` from {source}.\n"
    return head + yaml.safe_dump_all(export(catalog, source), sort_keys=False, width=100)


def _source(type_: str, spec: dict) -> dict:
    return {"metricSource": {"type": type_, "spec": spec}}


def _ratio_metric(slo: Slo, index: int, source: Path | str) -> dict:
    indicator, classes = slo.indicator, list(slo.indicator.route_classes)
    if slo.measured == "client":
        total = _source(LOAD_SOURCE, {"routeClasses": classes})
        if indicator.type == "latency":
            return {"counter": True, "total": total, "good": _source(
                LOAD_SOURCE, {"routeClasses": classes, "thresholdMs": indicator.threshold_ms})}
        return {"counter": True, "total": total, "bad": _source(
            LOAD_SOURCE, {"routeClasses": classes, "bad": indicator.bad})}
    where = edge_selector(slo, index, source)

    def query(text: str) -> dict:
        return _source("Prometheus", {"query": text})

    if indicator.type == "latency":
        le = f"{bucket_s(slo, index, source):g}"
        return {"counter": True,
                "good": query(f'sum({LATENCY}_bucket{{{where},le="{le}"}})'),
                "total": query(f"sum({LATENCY}_count{{{where}}})")}
    return {"counter": True,
            "bad": query(f'sum({REQUESTS}{{{where},status=~"{BAD_STATUS[indicator.bad]}"}})'),
            "total": query(f"sum({REQUESTS}{{{where}}})")}


def _annotations(slo: Slo) -> dict[str, str]:
    found = {"runbook-url": str(slo.runbook_url) if slo.runbook_url else None,
             "mttd-s": str(slo.mttd_s) if slo.mttd_s != Slo.model_fields["mttd_s"].default
             else None,
             "percentile": f"{slo.indicator.percentile:g}" if slo.indicator.percentile else None,
             "alerting": json.dumps([rule.model_dump() for rule in slo.alerting])
             if slo.alerting != DEFAULT_ALERTING else None}
    return {PREFIX + key: value for key, value in found.items() if value is not None}


def _shorthand(slo: Slo, index: int, source: Path | str) -> str:
    seconds = slo.budget_period_s
    for unit, size in (("d", DAY_S), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    raise UserError(f"{slo.budget_period_days:g} days is not a whole number of minutes, "
                    "which OpenSLO's durations need", file=source,
                    field=f"slos.{index}.budget_period_days")


# Import -------------------------------------------------------------------------------


@dataclass
class _Doc:
    """One OpenSLO document and where it came from, for errors that name both."""

    file: Path
    index: int
    data: dict

    @property
    def label(self) -> str:
        name = (self.data.get("metadata") or {}).get("name", "?")
        return f"{self.data.get('kind', 'document')} '{name}' (document {self.index + 1})"

    def fail(self, path: str, message: str, fix: str | None = None) -> UserError:
        return UserError(f"{self.label}: {message}", file=self.file, field=path,
                         fix=fix or "Fix the document, or keep this SLO out of the import; "
                                    "nothing was written")

    def get(self, path: str, kind: type | tuple[type, ...], default: object = ...) -> object:
        """The value at the dotted PATH, which must be a KIND (DEFAULT when missing)."""
        value: object = self.data
        for part in path.split("."):
            if isinstance(value, dict):
                value = value.get(part, ...)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = ...
        if value is ...:
            if default is ...:
                raise self.fail(path, "required field is missing")
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # YAML's true is an int to Python: a number field must not take it.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = " or ".join(k.__name__ for k in kinds)
            raise self.fail(path, f"expected a {expected}, got {type(value).__name__}")
        return value

    def only(self, path: str, known: tuple[str, ...], why: str = "") -> dict:
        """The mapping at PATH, refused when it holds a field the catalog cannot hold."""
        mapping = self.get(path, dict, {}) if path else self.data
        for key in mapping:
            if key not in known:
                at = f"{path}.{key}" if path else key
                raise self.fail(at, f"'{key}' cannot be represented in the SLO catalog"
                                    f"{why} (read here: {', '.join(known)})")
        return mapping


@dataclass
class Imported:
    catalog: Catalog
    notes: list[str] = field(default_factory=list)  # descriptive text not kept


def read_documents(paths: list[Path]) -> list[_Doc]:
    """Every document of PATHS (YAML streams, each document an object or a list of them)."""
    docs = []
    for path in paths:
        try:
            text = path.read_text()
            loaded = list(yaml.safe_load_all(text))
        except OSError as err:
            raise UserError(f"cannot read it: {err.strerror}", file=path,
                            fix="Pass existing OpenSLO files") from None
        except yaml.YAMLError as err:
            raise UserError(f"not YAML: {err}".replace("\n", " "), file=path) from None
        items = [item for one in loaded if one is not None
                 for item in (one if isinstance(one, list) else [one])]
        for item in items:
            doc = _Doc(path, len([d for d in docs if d.file == path]), item)
            if not isinstance(item, dict):
                raise doc.fail("(top level)", "expected an OpenSLO object (a mapping)")
            docs.append(doc)
    if not docs:
        raise UserError("no OpenSLO documents in the files given",
                        file=", ".join(str(p) for p in paths))
    return docs


def import_documents(paths: list[Path]) -> Imported:
    """The catalog the OpenSLO documents in PATHS describe."""
    docs = read_documents(paths)
    notes: list[str] = []
    slis: dict[str, _Doc] = {}
    slos: list[_Doc] = []
    services: list[_Doc] = []
    for doc in docs:
        doc.only("", ("apiVersion", "kind", "metadata", "spec"))
        if doc.get("apiVersion", str) != API_VERSION:
            raise doc.fail("apiVersion", f"'{doc.data['apiVersion']}' is not {API_VERSION}",
                           fix=f"Convert it to {API_VERSION} (oslo convert can)")
        kind = doc.get("kind", str)
        name = doc.get("metadata.name", str)
        if kind == "SLI":
            if name in slis:
                raise doc.fail("metadata.name", f"a second SLI named '{name}'")
            slis[name] = doc
        elif kind == "SLO":
            slos.append(doc)
        elif kind == "Service":
            services.append(doc)
        else:
            raise doc.fail("kind", f"'{kind}' documents are not read (read: SLO, SLI, "
                                   "Service); alerting comes from the catalog's tiers")
    if not slos:
        raise UserError("no SLO documents in the files given",
                        file=", ".join(str(p) for p in paths))
    service = slos[0].get("spec.service", str)
    if not re.match(SERVICE_NAME, service):
        raise slos[0].fail("spec.service", f"'{service}' is not a service name of lowercase "
                                           "letters, digits and dashes")
    for doc in slos:
        if doc.get("spec.service", str) != service:
            raise doc.fail("spec.service", f"service '{doc.data['spec']['service']}' differs "
                                           f"from the first SLO's '{service}'; a catalog "
                                           "holds one service's SLOs",
                           fix="Import each service's SLOs into a catalog of its own")
    for doc in services:
        doc.only("metadata", ("name", "displayName"))
        doc.only("spec", ("description",))
        if doc.get("metadata.name", str) != service:
            raise doc.fail("metadata.name", f"the SLOs are of service '{service}'")
        notes += [f"{doc.label}: {what} not kept (the catalog names its service only)"
                  for what in ("metadata.displayName", "spec.description")
                  if doc.get(what, str, None) is not None]
    slo_list = [_slo(doc, slis, notes) for doc in slos]
    names = [slo.name for slo in slo_list]
    for doc, name in zip(slos, names):
        if names.count(name) > 1:
            raise doc.fail("metadata.name", f"a second SLO named '{name}'")
    return Imported(Catalog(service=service, slos=tuple(slo_list)), notes)


def _slo(doc: _Doc, slis: dict[str, _Doc], notes: list[str]) -> Slo:
    meta = doc.only("metadata", ("name", "displayName", "labels", "annotations"))
    spec = doc.only("spec", ("description", "service", "indicator", "indicatorRef",
                             "budgetingMethod", "timeWindow", "objectives", "alertPolicies"))
    if doc.get("spec.alertPolicies", list, []):
        raise doc.fail("spec.alertPolicies", "alert policies are not read: the catalog's "
                                             "alerting tiers (the workbook's by default, or "
                                             f"the '{PREFIX}alerting' annotation) decide")
    method = doc.get("spec.budgetingMethod", str)
    if method != "Occurrences":
        raise doc.fail("spec.budgetingMethod", f"'{method}' budgeting: the catalog budgets "
                                               "by occurrences (bad events over all) only")
    windows = doc.get("spec.timeWindow", list)
    if len(windows) != 1:
        raise doc.fail("spec.timeWindow", f"{len(windows)} windows; the catalog holds one")
    doc.only("spec.timeWindow.0", ("duration", "isRolling"),
             ": the catalog's budget periods are rolling, not calendar")
    if doc.get("spec.timeWindow.0.isRolling", bool, False) is not True:
        raise doc.fail("spec.timeWindow.0.isRolling", "a calendar window: the catalog's "
                                                      "budget periods are rolling")
    period_days = _days(doc, "spec.timeWindow.0.duration")
    objectives = doc.get("spec.objectives", list)
    if len(objectives) != 1:
        raise doc.fail("spec.objectives", f"{len(objectives)} objectives; the catalog holds "
                                          "one per SLO", fix="Split it into one SLO each")
    doc.only("spec.objectives.0", ("target", "displayName"),
             ": ratio objectives have a target only")
    if doc.get("spec.objectives.0.displayName", str, None) is not None:
        notes.append(f"{doc.label}: spec.objectives.0.displayName not kept (the SLO's "
                     "displayName names it)")
    target = doc.get("spec.objectives.0.target", (int, float))

    if "indicator" in spec and "indicatorRef" in spec:
        raise doc.fail("spec.indicatorRef", "give indicator or indicatorRef, not both")
    if "indicatorRef" in spec:
        ref = doc.get("spec.indicatorRef", str)
        if ref not in slis:
            raise doc.fail("spec.indicatorRef", f"no SLI named '{ref}' in the files given "
                                                f"(SLIs: {', '.join(sorted(slis)) or 'none'})")
        sli, base = slis[ref], "spec"
        sli.only("metadata", ("name", "displayName"))
    else:
        doc.get("spec.indicator", dict)
        doc.only("spec.indicator", ("metadata", "spec"))
        doc.only("spec.indicator.metadata", ("name", "displayName"))
        sli, base = doc, "spec.indicator.spec"
    sli.only(base, ("description", "ratioMetric"),
             ": the catalog's indicators are ratios of counters")
    if sli.get(f"{base}.description", str, None) is not None:
        notes.append(f"{sli.label}: {base}.description not kept (the SLO's description "
                     "is)")
    indicator, measured = _indicator(sli, f"{base}.ratioMetric")

    annotations = {key: doc.get(f"metadata.annotations.{key}", str)
                   for key in meta.get("annotations", {})}
    for key in annotations:
        if not key.startswith(PREFIX) or key.removeprefix(PREFIX) not in ANNOTATIONS:
            raise doc.fail(f"metadata.annotations.{key}", "an annotation the catalog cannot "
                           f"hold (read: {', '.join(PREFIX + a for a in ANNOTATIONS)})")
    extra = {key.removeprefix(PREFIX): value for key, value in annotations.items()}
    if indicator["type"] == "latency":
        indicator["percentile"] = _number(doc, f"metadata.annotations.{PREFIX}percentile",
                                          extra.get("percentile", f"{target * 100:.10g}"))
    elif "percentile" in extra:
        raise doc.fail(f"metadata.annotations.{PREFIX}percentile",
                       "a percentile for an availability indicator")
    labels = {}
    for key, value in meta.get("labels", {}).items():
        values = value if isinstance(value, list) else [value]
        if len(values) != 1 or not isinstance(values[0], str):
            raise doc.fail(f"metadata.labels.{key}", f"{value!r}: a Prometheus label holds "
                                                     "one string")
        labels[key] = values[0]
    data: dict = {"name": doc.get("metadata.name", str),
                  "title": meta.get("displayName") or meta["name"],
                  "description": spec.get("description"), "labels": labels,
                  "objective": target, "indicator": indicator, "measured": measured,
                  "budget_period_days": period_days,
                  "runbook_url": extra.get("runbook-url")}
    if "mttd-s" in extra:
        data["mttd_s"] = _number(doc, f"metadata.annotations.{PREFIX}mttd-s", extra["mttd-s"])
    if "alerting" in extra:
        data["alerting"] = _alerting(doc, extra["alerting"])
    try:
        return Slo.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise doc.fail(_OPENSLO_FIELD.get(where.split(".")[0], "spec"),
                       f"{where}: {first['msg'].removeprefix('Value error, ')}") from None


# Where each catalog field comes from, for errors the catalog's own checks raise.
_OPENSLO_FIELD = {"name": "metadata.name", "title": "metadata.displayName",
                  "labels": "metadata.labels", "objective": "spec.objectives.0.target",
                  "indicator": "spec.indicator", "runbook_url":
                  f"metadata.annotations.{PREFIX}runbook-url",
                  "budget_period_days": "spec.timeWindow.0.duration"}


def _days(doc: _Doc, path: str) -> float:
    text = doc.get(path, str)
    number, unit = text[:-1], text[-1:]
    if not number.isdigit() or unit not in UNITS_S:
        raise doc.fail(path, f"'{text}' is not a duration of minutes, hours, days or weeks "
                             "(1M, 1Q and 1Y have no fixed length)", fix="Write it as 30d")
    return int(number) * UNITS_S[unit] / DAY_S


def _number(doc: _Doc, path: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise doc.fail(path, f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise doc.fail(path, f"'{text}' is not a finite number")
    return value


def _alerting(doc: _Doc, text: str) -> list[dict]:
    path = f"metadata.annotations.{PREFIX}alerting"
    try:
        rules = json.loads(text)
        if not isinstance(rules, list):
            raise ValueError("expected a JSON list of rules")
        return [AlertRule.model_validate(rule).model_dump() for rule in rules]
    except (ValueError, ValidationError) as err:
        raise doc.fail(path, f"not a list of alerting rules ({str(err).splitlines()[0]})",
                       fix='Write [{"name": "page", "long_s": 3600, "short_s": 300, '
                           '"burn_rate": 14.4}, ...]') from None


def _indicator(doc: _Doc, path: str) -> tuple[dict, str]:
    """The catalog's indicator and how it is measured, from the ratioMetric at PATH."""
    ratio = doc.only(path, ("counter", "good", "bad", "total"),
                     ": the catalog reads good or bad over total")
    if doc.get(f"{path}.counter", bool, None) is not True:
        raise doc.fail(f"{path}.counter", "the catalog reads counters (counter: true): "
                                          "rates over each window come from them")
    parts = [part for part in ("good", "bad") if part in ratio]
    if len(parts) != 1:
        raise doc.fail(path, "give exactly one of good and bad, with total")
    part = parts[0]
    types = {doc.get(f"{path}.{p}.metricSource.type", str) for p in (part, "total")}
    for p in (part, "total"):
        doc.only(f"{path}.{p}", ("metricSource",))
        doc.only(f"{path}.{p}.metricSource", ("type", "spec"),
                 ": DataSource documents are not read; write the query inline")
    if types == {LOAD_SOURCE}:
        return _load_indicator(doc, path, part), "client"
    if types != {"Prometheus"}:
        raise doc.fail(f"{path}.{part}.metricSource.type",
                       f"metric source {' and '.join(sorted(types))}: the catalog reads "
                       f"Prometheus queries, or {LOAD_SOURCE} for what only the load measures")
    selectors = {p: _selector(doc, f"{path}.{p}.metricSource.spec") for p in (part, "total")}
    return _server_indicator(doc, path, part, selectors), "server"


def _load_indicator(doc: _Doc, path: str, part: str) -> dict:
    total = doc.only(f"{path}.total.metricSource.spec", ("routeClasses",))
    classes = doc.get(f"{path}.total.metricSource.spec.routeClasses", list)
    spec_path = f"{path}.{part}.metricSource.spec"
    spec = doc.only(spec_path, ("routeClasses", "bad", "thresholdMs"))
    if spec.get("routeClasses") != total.get("routeClasses"):
        raise doc.fail(f"{spec_path}.routeClasses", f"{part} and total count different "
                                                    "route classes")
    if part == "bad":
        return {"type": "availability", "route_classes": classes,
                "bad": doc.get(f"{spec_path}.bad", str)}
    return {"type": "latency", "route_classes": classes,
            "threshold_ms": doc.get(f"{spec_path}.thresholdMs", (int, float))}


@dataclass(frozen=True)
class _Selector:
    metric: str
    labels: dict[str, tuple[str, str]]  # label -> (operator, value)


def _selector(doc: _Doc, path: str) -> _Selector:
    """The one counter selector of a query: `sum(metric{...})` or `metric{...}`."""
    doc.only(path, ("query",))
    query = doc.get(f"{path}.query", str)
    field_ = f"{path}.query"
    try:
        expr = promql_parser.parse(query)
    except ValueError as err:
        raise doc.fail(field_, f"not PromQL ({err})") from None
    if isinstance(expr, promql_parser.AggregateExpr) and str(expr.op) == "sum" and \
            expr.param is None and (expr.modifier is None or (
                str(expr.modifier.type).endswith("By") and not expr.modifier.labels)):
        expr = expr.expr  # sum(x) and sum by () (x): one total
    if not isinstance(expr, promql_parser.VectorSelector) or expr.offset or expr.at:
        raise doc.fail(field_, f"'{query}' is not a sum of one counter: the catalog reads "
                               f"{REQUESTS} or {LATENCY}_bucket/_count of one edge, as "
                               "sum(metric{tier=..., route_class=~...})")
    labels, operators = {}, {"MatchOp.Equal": "=", "MatchOp.Re": "=~",
                             "MatchOp.NotRe": "!~", "MatchOp.NotEqual": "!="}
    name = expr.name
    for matcher in expr.matchers.matchers:
        if matcher.name == "__name__" and str(matcher.op) == "MatchOp.Equal":
            name = matcher.value
        else:
            labels[matcher.name] = (operators[str(matcher.op)], matcher.value)
    return _Selector(name or "", labels)


def _server_indicator(doc: _Doc, path: str, part: str,
                      selectors: dict[str, _Selector]) -> dict:
    """The catalog's indicator the two Prometheus selectors describe, or a refusal."""
    total, counted = selectors["total"], selectors[part]
    where = f"{path}.{part}.metricSource.spec.query"

    def edge(selector: _Selector, at: str) -> tuple[str, list[str]]:
        tier = selector.labels.get("tier")
        classes = selector.labels.get("route_class")
        if tier is None or tier[0] != "=" or classes is None or classes[0] not in ("=", "=~"):
            raise doc.fail(at, "the query must select one edge (tier=\"lb\" or \"cdn\") and "
                               "its route classes (route_class=~\"a|b\")")
        names = classes[1].split("|")
        for cls in names:
            if SERVED_BY.get(cls) != tier[1]:
                raise doc.fail(at, f"route class '{cls}' is not served by the edge "
                                   f"'{tier[1]}' (edges: lb: auth, lms, api, tracking; cdn: "
                                   "video)")
        return tier[1], names

    total_at = f"{path}.total.metricSource.spec.query"
    if edge(counted, where) != edge(total, total_at):
        raise doc.fail(where, f"{part} and total select different edges or route classes")
    classes = edge(total, total_at)[1]
    if total.metric == REQUESTS and counted.metric == REQUESTS and \
            set(total.labels) == {"tier", "route_class"}:
        status = counted.labels.get("status")
        operator = "=~" if part == "bad" else "!~"
        for kind, pattern in BAD_STATUS.items():
            if status == (operator, pattern) and set(counted.labels) == \
                    {"tier", "route_class", "status"}:
                return {"type": "availability", "route_classes": classes, "bad": kind}
        raise doc.fail(where, f"{part} must count statuses {operator}\"5..\" (server errors) "
                              f"or {operator}\"[45]..\" (failures), and nothing else")
    if part == "good" and total.metric == f"{LATENCY}_count" and \
            counted.metric == f"{LATENCY}_bucket" and set(total.labels) == \
            {"tier", "route_class"} and set(counted.labels) == {"tier", "route_class", "le"} \
            and counted.labels["le"][0] == "=":
        seconds = _number(doc, where, counted.labels["le"][1])
        if seconds not in LATENCY_BUCKETS_S:
            raise doc.fail(where, f"the edges' latency histograms have no bucket le=\"{seconds:g}\""
                                  f" (buckets: {', '.join(f'{b:g}' for b in LATENCY_BUCKETS_S)})")
        return {"type": "latency", "route_classes": classes, "threshold_ms": seconds * 1000}
    raise doc.fail(where, f"the catalog reads availability as {REQUESTS} by status and "
                          f"latency as good {LATENCY}_bucket{{le=...}} over {LATENCY}_count")


def render_catalog(imported: Imported, sources: list[Path]) -> str:
    """The imported catalog as the YAML file `load_catalog` reads."""
    data = imported.catalog.model_dump(mode="json", exclude_defaults=True)
    head = ["# SLO catalog imported by `edx-gameday slo import` from "
            f"{', '.join(str(p) for p in sources)}."]
    return "\n".join(head) + "\n" + yaml.safe_dump(data, sort_keys=False, width=100)
