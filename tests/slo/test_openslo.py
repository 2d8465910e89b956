"""OpenSLO v1 in and out: the catalog survives export then import unchanged, a hand-written
OpenSLO file becomes the catalog it describes, and whatever the catalog cannot hold is
refused naming the file, the document and the field."""

import copy
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.errors import UserError
from chaoslib_edx.slo.catalog import load_catalog
from chaoslib_edx.slo.openslo import export, import_documents, render, render_catalog
from tests.conftest import REPO, one_paragraph, run_cli

CATALOG = REPO / "gamedays/slos.yaml"

CUSTOM = {
    "service": "edx-stage",
    "slos": [
        {"name": "lms-availability", "title": "LMS up", "description": "Learners get pages",
         "labels": {"team": "sre", "tier": "1"}, "objective": 0.995,
         "indicator": {"type": "availability", "route_classes": ["lms"], "bad": "failures"},
         "budget_period_days": 7, "mttd_s": 120,
         "runbook_url": "https://runbooks.example.com/lms",
         "alerting": [{"name": "page", "long_s": 1800, "short_s": 120, "burn_rate": 20},
                      {"name": "mail", "long_s": 86400, "short_s": 7200, "burn_rate": 2}]},
        {"name": "api-latency", "title": "API p95", "objective": 0.99,
         "indicator": {"type": "latency", "route_classes": ["api"], "threshold_ms": 250,
                       "percentile": 95},
         "budget_period_days": 0.5, "runbook_url": "https://runbooks.example.com/api"},
        {"name": "session-speed", "title": "Sessions answered fast", "objective": 0.9,
         "measured": "client",
         "indicator": {"type": "latency", "route_classes": ["session"], "threshold_ms": 800,
                       "percentile": 90}},
    ]}


def _write(path: Path, data: object, *, stream: bool = False) -> Path:
    path.write_text(yaml.safe_dump_all(data, sort_keys=False) if stream
                    else yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("which", ["shipped", "custom"])
def test_export_then_import_gives_the_same_catalog(tmp_path: Path, which: str) -> None:
    source = CATALOG if which == "shipped" else _write(tmp_path / "slos.yaml", CUSTOM)
    catalog = load_catalog(source)
    exported = tmp_path / "openslo.yaml"
    exported.write_text(render(catalog, source))
    imported = import_documents([exported])
    assert imported.catalog == catalog and imported.notes == []
    # The written catalog is one load_catalog reads back, equal again.
    written = tmp_path / "back.yaml"
    written.write_text(render_catalog(imported, [exported]))
    assert load_catalog(written) == catalog


def test_the_export_is_openslo_v1_as_its_spec_writes_it() -> None:
    """A Service, then per SLO an SLI and the SLO referencing it; the fields OpenSLO v1
    names, with Occurrences budgeting over one rolling window."""
    docs = export(load_catalog(CATALOG), CATALOG)
    assert [d["kind"] for d in docs] == ["Service"] + ["SLI", "SLO"] * 5
    assert {d["apiVersion"] for d in docs} == {"openslo/v1"}
    slo = docs[2]
    assert slo["spec"] == {"service": "openedx", "indicatorRef": "lms-availability",
                           "budgetingMethod": "Occurrences",
                           "timeWindow": [{"duration": "30d", "isRolling": True}],
                           "objectives": [{"target": 0.999}]}
    assert docs[1]["spec"]["ratioMetric"]["bad"]["metricSource"] == {
        "type": "Prometheus", "spec": {"query": 'sum(edx_http_requests_total{tier="lb",'
                                                'route_class=~"lms|api",status=~"5.."})'}}


HAND_WRITTEN = """\
# What a team writes by hand: a list of objects, an inline indicator, an SLI by reference.
- apiVersion: openslo/v1
  kind: Service
  metadata:
    name: openedx
    displayName: Open edX
  spec:
    description: The learning platform
- apiVersion: openslo/v1
  kind: SLO
  metadata:
    name: login
    displayName: Logins succeed
    labels:
      team: [identity]
    annotations:
      chaostoolkit-edx/runbook-url: https://wiki.example.com/login
  spec:
    description: 99.95% of logins answer without an error, over 4 weeks
    service: openedx
    indicator:
      metadata:
        name: login-ratio
      spec:
        ratioMetric:
          counter: true
          good:
            metricSource:
              type: Prometheus
              spec:
                query: sum by () (edx_http_requests_total{tier="lb", route_class="auth", status!~"[45].."})
          total:
            metricSource:
              type: Prometheus
              spec:
                query: edx_http_requests_total{tier="lb",route_class="auth"}
    budgetingMethod: Occurrences
    timeWindow:
      - duration: 4w
        isRolling: true
    objectives:
      - displayName: Good
        target: 0.9995
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: video-fast
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: sum(edx_http_request_duration_seconds_bucket{tier="cdn",route_class="video",le="1"})
    total:
      metricSource:
        type: Prometheus
        spec:
          query: sum(edx_http_request_duration_seconds_count{tier="cdn",route_class="video"})
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: video-latency
spec:
  service: openedx
  indicatorRef: video-fast
  budgetingMethod: Occurrences
  timeWindow: [{duration: 720h, isRolling: true}]
  objectives: [{target: 0.98}]
"""


def test_a_hand_written_openslo_file_becomes_its_catalog(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(HAND_WRITTEN)
    imported = import_documents([path])
    catalog = imported.catalog
    assert catalog.service == "openedx"
    login, video = catalog.get("login"), catalog.get("video-latency")
    assert login.model_dump(mode="json") == {
        "name": "login", "title": "Logins succeed",
        "description": "99.95% of logins answer without an error, over 4 weeks",
        "labels": {"team": "identity"}, "objective": 0.9995,
        "indicator": {"type": "availability", "route_classes": ["auth"], "bad": "failures",
                      "threshold_ms": None, "percentile": None},
        "measured": "server", "budget_period_days": 28.0,
        "alerting": login.model_dump(mode="json")["alerting"], "mttd_s": 300, "newrelic": None,
        "cloudwatch": None,
        "runbook_url": "https://wiki.example.com/login"}
    assert [r.name for r in login.alerting] == ["page", "page-slow", "ticket"]  # workbook's
    assert video.indicator.type == "latency" and video.indicator.threshold_ms == 1000
    assert video.indicator.percentile == 98 and video.budget_period_days == 30
    assert video.title == "video-latency" and video.runbook_url is None
    assert imported.notes == [
        "Service 'openedx' (document 1): metadata.displayName not kept (the catalog names "
        "its service only)",
        "Service 'openedx' (document 1): spec.description not kept (the catalog names its "
        "service only)",
        "SLO 'login' (document 2): spec.objectives.0.displayName not kept (the SLO's "
        "displayName names it)"]


def _docs() -> list[dict]:
    return export(load_catalog(CATALOG), CATALOG)


def _mutated(change) -> list[dict]:
    docs = copy.deepcopy(_docs())
    change(docs)
    return docs


def _set(path: str, value: object):
    """A change to document 2 (lms-availability's SLO) or, for sli., document 1 (its SLI)."""
    def change(docs: list[dict]) -> None:
        doc, keys = (docs[1], path[4:]) if path.startswith("sli.") else (docs[2], path)
        *parents, last = keys.split(".")
        for key in parents:
            doc = doc[int(key)] if key.isdigit() else doc[key]
        if value is None:
            del doc[int(last) if last.isdigit() else last]
        else:
            doc[int(last) if last.isdigit() else last] = value
    return change


BAD = "sli.spec.ratioMetric.bad.metricSource"
REFUSALS = [
    (_set("spec.budgetingMethod", "Timeslices"), 3, "spec.budgetingMethod", "'Timeslices'"),
    (_set("spec.timeWindow.0.isRolling", False), 3, "spec.timeWindow.0.isRolling",
     "calendar window"),
    (_set("spec.timeWindow.0.calendar", {"startTime": "2026-01-01 00:00:00",
                                          "timeZone": "UTC"}), 3,
     "spec.timeWindow.0.calendar", "cannot be represented"),
    (_set("spec.timeWindow.0.duration", "1M"), 3, "spec.timeWindow.0.duration",
     "no fixed length"),
    (_set("spec.objectives", [{"target": 0.99}, {"target": 0.999}]), 3, "spec.objectives",
     "2 objectives"),
    (_set("spec.objectives.0.timeSliceTarget", 0.9), 3, "spec.objectives.0.timeSliceTarget",
     "cannot be represented"),
    (_set("spec.alertPolicies", ["pager"]), 3, "spec.alertPolicies", "alert policies"),
    (_set("spec.indicatorRef", "nothing"), 3, "spec.indicatorRef", "no SLI named 'nothing'"),
    # The first SLO's service sets the catalog's: the next SLO is the one that differs.
    (_set("spec.service", "other"), 5, "spec.service", "differs from the first SLO's 'other'"),
    (_set("metadata.annotations.owner", "me"), 3, "metadata.annotations.owner",
     "an annotation the catalog cannot hold"),
    (_set("metadata.labels", {"team": ["a", "b"]}), 3, "metadata.labels.team",
     "holds one string"),
    (_set("apiVersion", "openslo/v1alpha"), 3, "apiVersion", "is not openslo/v1"),
    (_set("spec.objectives.0.target", 1.5), 3, "spec.objectives.0.target", "less than 1"),
    (_set("sli.spec.ratioMetric.counter", False), 2, "spec.ratioMetric.counter",
     "counter: true"),
    (_set("sli.spec.thresholdMetric", {"metricSource": {"type": "Prometheus"}}), 2,
     "spec.thresholdMetric", "cannot be represented"),
    (_set(f"{BAD}.type", "Datadog"), 2, "spec.ratioMetric.bad.metricSource.type",
     "metric source Datadog and Prometheus"),
    (_set(f"{BAD}.metricSourceRef", "my-prometheus"), 2,
     "spec.ratioMetric.bad.metricSource.metricSourceRef", "DataSource documents"),
    (_set(f"{BAD}.spec.query", "sum(rate(http_requests_total[5m]))"), 2,
     "spec.ratioMetric.bad.metricSource.spec.query", "not a sum of one counter"),
    (_set(f"{BAD}.spec.query", 'sum(edx_http_requests_total{tier="lb",'
                               'route_class=~"lms|api",status=~"5..|429"})'), 2,
     "spec.ratioMetric.bad.metricSource.spec.query", 'statuses =~"5.."'),
    (_set(f"{BAD}.spec.query", 'sum(edx_http_requests_total{tier="cdn",'
                               'route_class=~"lms|api",status=~"5.."})'), 2,
     "spec.ratioMetric.bad.metricSource.spec.query", "not served by the edge 'cdn'"),
    (_set(f"{BAD}.spec.query", "sum(edx_http_requests_total{"), 2,
     "spec.ratioMetric.bad.metricSource.spec.query", "not PromQL"),
    (_set("spec.service", "Open edX"), 3, "spec.service", "is not a service name"),
]


@pytest.mark.parametrize("change, document, field, words", REFUSALS)
def test_what_the_catalog_cannot_hold_is_refused(tmp_path: Path, change, document: int,
                                                 field: str, words: str) -> None:
    path = _write(tmp_path / "openslo.yaml", _mutated(change), stream=True)
    with pytest.raises(UserError) as refused:
        import_documents([path])
    error = refused.value
    assert error.file == str(path) and error.field == field, str(error)
    assert f"(document {document})" in str(error) and words in str(error), str(error)


def test_other_kinds_are_refused_naming_them(tmp_path: Path) -> None:
    docs = _docs() + [{"apiVersion": "openslo/v1", "kind": "AlertPolicy",
                       "metadata": {"name": "pager"}, "spec": {}}]
    path = _write(tmp_path / "openslo.yaml", docs, stream=True)
    with pytest.raises(UserError) as refused:
        import_documents([path])
    assert refused.value.field == "kind" and "'AlertPolicy'" in str(refused.value)
    assert "(document 12)" in str(refused.value)


def test_a_server_slo_across_two_edges_cannot_be_exported(tmp_path: Path) -> None:
    path = _write(tmp_path / "slos.yaml", {"slos": [{
        "name": "mixed", "title": "t", "objective": 0.99,
        "indicator": {"type": "availability", "route_classes": ["lms", "video"]}}]})
    with pytest.raises(UserError) as refused:
        export(load_catalog(path), path)
    assert refused.value.field == "slos.0.indicator.route_classes"


@pytest.mark.integration
def test_the_cli_round_trips_and_refuses_with_exit_2(tmp_path: Path) -> None:
    exported = tmp_path / "openslo.yaml"
    result = run_cli("slo", "export", "--out", str(exported))
    assert result.returncode == 0, result.stderr
    catalog = tmp_path / "slos.yaml"
    result = run_cli("slo", "import", str(exported), "--out", str(catalog))
    assert result.returncode == 0 and "5 SLOs" in result.stderr, result.stderr
    assert load_catalog(catalog) == load_catalog(CATALOG)

    bad = _write(tmp_path / "bad.yaml", _mutated(_set("spec.budgetingMethod", "Timeslices")),
                 stream=True)
    out = tmp_path / "never.yaml"
    result = run_cli("slo", "import", str(bad), "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    error = one_paragraph(result.stderr)
    assert str(bad) in error and "field 'spec.budgetingMethod'" in error, error
    assert "SLO 'lms-availability' (document 3)" in error and not out.exists()
