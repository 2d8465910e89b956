"""Prometheus rules from the SLO catalog: promtool accepts them, its unit tests see each
alert fire on a burst of bad requests and resolve after it, and bad input is refused."""

import subprocess
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.errors import UserError
from chaoslib_edx.routes import SERVED_BY
from chaoslib_edx.slo.catalog import load_catalog
from chaoslib_edx.slo.evaluator import scaled
from chaoslib_edx.slo.rules import generate, render
from tests.conftest import REPO, one_paragraph, run_cli

CATALOG = REPO / "gamedays/slos.yaml"
SERVER_SLOS = ["lms-availability", "api-latency", "video-delivery", "authentication"]


def _write_rules(tmp_path: Path, **kwargs: object) -> Path:
    path = tmp_path / "slo-rules.yaml"
    path.write_text(render(load_catalog(CATALOG), CATALOG, **kwargs))
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("compress_for", [None, 480])
def test_promtool_accepts_the_rules(tmp_path: Path, compress_for: int | None) -> None:
    rules = _write_rules(tmp_path, compress_for_s=compress_for, scrape_interval_s=1)
    result = _promtool("check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_an_alert_per_rule_of_every_server_side_slo() -> None:
    catalog = load_catalog(CATALOG)
    groups = generate(catalog, CATALOG)["groups"]
    alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    assert sorted({a["labels"]["slo"] for a in alerts}) == sorted(SERVER_SLOS)
    assert len(alerts) == 2 * len(SERVER_SLOS)  # page and ticket each
    for alert in alerts:
        slo = catalog.get(alert["labels"]["slo"])
        assert alert["labels"]["severity"] in ("page", "ticket")
        assert alert["annotations"]["runbook_url"] == str(slo.runbook_url)
    # session-continuity is measured by the load only: no rule, said in the header.
    assert "session-continuity" not in yaml.safe_dump(groups)
    assert "not here: session-continuity" in render(catalog, CATALOG)


def test_compressed_windows_are_the_evaluators_floored_at_four_scrapes() -> None:
    catalog = load_catalog(CATALOG)
    slo = catalog.get("lms-availability")
    groups = generate(catalog, CATALOG, compress_for_s=480, scrape_interval_s=2)["groups"]
    records = {r["record"] for g in groups if g["name"] == "slo:lms-availability"
               for r in g["rules"] if "record" in r}
    expected = {w for rule in slo.alerting for w in scaled(slo, rule, 480, 8)}
    assert records == {f"slo:sli_error:ratio_rate{w // 60}m" if w % 60 == 0 else
                       f"slo:sli_error:ratio_rate{w}s" for w in expected}
    assert min(expected) == 8  # the page rule's 5 min short window, floored


def _series(slo, bad_from_m: int, bad_to_m: int, end_m: int) -> list[dict]:
    """600 requests a minute to every class of SLO; half of them bad in [from, to)."""
    tier = SERVED_BY[slo.indicator.route_classes[0]]
    minutes = range(end_m + 1)
    bad_per_min = [300 if bad_from_m <= m < bad_to_m else 0 for m in minutes]

    def counter(per_minute: list[int]) -> str:
        total, values = 0, []
        for count in per_minute:
            values.append(str(total))
            total += count
        return " ".join(values)

    series = []
    for cls in slo.indicator.route_classes:
        where = f'tier="{tier}",route_class="{cls}"'
        if slo.indicator.type == "latency":
            le = f"{slo.indicator.threshold_ms / 1000:g}"
            series += [
                {"series": f"edx_http_request_duration_seconds_count{{{where}}}",
                 "values": counter([600] * len(minutes))},
                {"series": f'edx_http_request_duration_seconds_bucket{{{where},le="{le}"}}',
                 "values": counter([600 - b for b in bad_per_min])}]
        else:
            series += [
                {"series": f'edx_http_requests_total{{{where},status="200"}}',
                 "values": counter([600 - b for b in bad_per_min])},
                {"series": f'edx_http_requests_total{{{where},status="503"}}',
                 "values": counter(bad_per_min)}]
    return series


def test_promtool_unit_tests_fire_and_resolve_every_alert(tmp_path: Path) -> None:
    """Per SLO: 60 min of good traffic, 30 min at 50% bad, then good again. Both alerts fire
    during the burst (the page's 1 h and 5 min windows, the ticket's 6 h and 30 min) and
    both resolve within 30 min of its end; before it, nothing fires."""
    rules = _write_rules(tmp_path)
    catalog = load_catalog(CATALOG)
    tests = []
    for name in SERVER_SLOS:
        slo = catalog.get(name)
        alert = "".join(p.capitalize() for p in name.split("-")) + "BudgetBurn"
        firing = [{"exp_labels": {"severity": rule.severity, "slo": name, "rule": rule.name},
                   "exp_annotations": _annotations(rules, alert, rule.name)}
                  for rule in slo.alerting]
        tests.append({
            "interval": "1m",
            "input_series": _series(slo, 60, 90, 150),
            "alert_rule_test": [
                {"eval_time": "55m", "alertname": alert, "exp_alerts": []},
                {"eval_time": "85m", "alertname": alert, "exp_alerts": firing},
                {"eval_time": "125m", "alertname": alert, "exp_alerts": []},
            ]})
    test_file = tmp_path / "slo-rules.test.yaml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules)],
                                         "evaluation_interval": "1m", "tests": tests}))
    result = _promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_fail_when_the_burst_is_too_small(tmp_path: Path) -> None:
    """The guard on the test above: a 0.8% burst is under lms-availability's page threshold
    (14.4 x 0.1%), so the expectation that the page fires must fail."""
    rules = _write_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    series = _series(slo, 60, 90, 150)
    for item in series:  # the bad series 60 times smaller: 5 of 600
        if 'status="503"' in item["series"]:
            item["values"] = " ".join(str(int(v) // 60) for v in item["values"].split())
    test_file = tmp_path / "small.test.yaml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m",
                                         "tests": [{"interval": "1m", "input_series": series,
                                                    "alert_rule_test": [{
                                                        "eval_time": "85m",
                                                        "alertname": "LmsAvailabilityBudgetBurn",
                                                        "exp_alerts": [{"exp_labels": {
                                                            "severity": "page",
                                                            "slo": "lms-availability",
                                                            "rule": "page"}}]}]}]}))
    result = _promtool("test", "rules", str(test_file))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout + result.stderr


def _annotations(rules: Path, alert: str, rule_name: str) -> dict:
    """The annotations the generated rule carries, as promtool compares them whole."""
    for group in yaml.safe_load(rules.read_text())["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert and rule["labels"]["rule"] == rule_name:
                return rule["annotations"]
    raise AssertionError(f"no alert {alert} ({rule_name})")


def test_a_latency_threshold_between_buckets_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "slos.yaml"
    catalog.write_text(yaml.safe_dump({"slos": [{
        "name": "api-latency", "title": "t", "objective": 0.99,
        "runbook_url": "https://runbooks.example.com/x",
        "indicator": {"type": "latency", "route_classes": ["api"], "threshold_ms": 300,
                      "percentile": 99}}]}))
    with pytest.raises(UserError) as err:
        render(load_catalog(catalog), catalog)
    assert err.value.field == "slos.0.indicator.threshold_ms" and "500" in str(err.value)


def _slo(**changes: object) -> dict:
    slo = {"name": "lms-availability", "title": "t", "objective": 0.999,
           "runbook_url": "https://runbooks.example.com/x",
           "indicator": {"type": "availability", "route_classes": ["lms", "api"]}}
    return {**slo, **changes}


@pytest.mark.integration
@pytest.mark.parametrize("slo, field", [
    (_slo(alerting=[{"name": "page", "long_s": 0, "short_s": 300, "burn_rate": 14.4}]),
     "slos.0.alerting.0.long_s"),
    (_slo(alerting=[{"name": "page", "long_s": 300, "short_s": 3600, "burn_rate": 14.4}]),
     "slos.0.alerting.0"),
    (_slo(alerting=[{"name": "page", "long_s": 3600, "short_s": 300, "burn_rate": 0}]),
     "slos.0.alerting.0.burn_rate"),
    (_slo(indicator={"type": "latency", "route_classes": ["api"], "threshold_ms": 0,
                     "percentile": 99}), "slos.0.indicator.threshold_ms"),
    (_slo(objective=1.5), "slos.0.objective"),
    (_slo(indicator={"type": "saturation", "route_classes": ["api"]}), "slos.0.indicator.type"),
    (_slo(indicator={"type": "availability", "route_classes": ["api", "video"]}),
     "slos.0.indicator.route_classes"),
    (_slo(runbook_url=None), "slos.0.runbook_url"),
    # Written into Prometheus' annotations and the report's links: http(s) only.
    (_slo(runbook_url="javascript:alert(document.cookie)"), "slos.0.runbook_url"),
    (_slo(runbook_url="data:text/html,<script>alert(1)</script>"), "slos.0.runbook_url"),
    (_slo(alerting=[{"name": "fast", "long_s": 3600, "short_s": 300, "burn_rate": 14.4,
                     "severity": "critical"}]), "slos.0.alerting.0.severity"),
])
def test_bad_catalog_input_is_refused_naming_file_and_field(tmp_path: Path, slo: dict,
                                                            field: str) -> None:
    catalog = tmp_path / "slos.yaml"
    catalog.write_text(yaml.safe_dump({"slos": [slo]}))
    out = tmp_path / "rules.yaml"
    result = run_cli("slo", "rules", "--slos", str(catalog), "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    error = one_paragraph(result.stderr)
    assert str(catalog) in error and f"field '{field}'" in error, error
    assert len(result.stderr.strip().splitlines()) <= 4 and not out.exists()


@pytest.mark.integration
def test_the_cli_writes_rules_promtool_accepts(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    result = run_cli("slo", "rules", "--out", str(out), "--compress-for", "480",
                     "--scrape-interval", "1")
    assert result.returncode == 0, result.stderr
    assert "480 s game day" in out.read_text()
    check = _promtool("check", "rules", str(out))
    assert check.returncode == 0 and "SUCCESS: 24 rules found" in check.stdout, check.stdout
