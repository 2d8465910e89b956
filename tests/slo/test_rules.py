"""Prometheus rules from the SLO catalog: promtool accepts them; its unit tests (promtool
test rules, Prometheus' own rule engine) see the workbook's tiers behave as the workbook
says on the burns it names, and Sloth's metadata series hold what its dashboards expect;
bad input is refused."""

import subprocess
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.errors import UserError
from chaoslib_edx.routes import SERVED_BY
from chaoslib_edx.slo.catalog import Catalog, load_catalog
from chaoslib_edx.slo.evaluator import scaled
from chaoslib_edx.slo.rules import duration, generate, render
from tests.conftest import REPO, one_paragraph, run_cli

CATALOG = REPO / "gamedays/slos.yaml"
SERVER_SLOS = ["lms-availability", "api-latency", "video-delivery", "authentication"]


def _write_rules(tmp_path: Path, **kwargs: object) -> Path:
    path = tmp_path / "slo-rules.yaml"
    path.write_text(render(load_catalog(CATALOG), CATALOG, **kwargs))
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.integration  # runs promtool
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
    assert len(alerts) == 3 * len(SERVER_SLOS)  # page, slow page and ticket each
    for alert in alerts:
        slo = catalog.get(alert["labels"]["slo"])
        assert alert["labels"]["severity"] in ("page", "ticket")
        assert alert["annotations"]["runbook_url"] == str(slo.runbook_url)
    # session-continuity is measured by the load only: no rule, said in the header.
    assert "session-continuity" not in yaml.safe_dump(groups)
    assert "not here: session-continuity" in render(catalog, CATALOG)


def test_an_slos_labels_are_on_its_series_and_alerts(tmp_path: Path) -> None:
    catalog = tmp_path / "slos.yaml"
    catalog.write_text(yaml.safe_dump({"slos": [_slo(labels={"team": "sre"})]}))
    rules = generate(load_catalog(catalog), catalog)["groups"][0]["rules"]
    assert all(rule["labels"]["team"] == "sre" for rule in rules
               if "alert" in rule or rule["record"].startswith("slo:sli_error:"))


def test_compressed_windows_are_the_evaluators_floored_at_four_scrapes() -> None:
    catalog = load_catalog(CATALOG)
    slo = catalog.get("lms-availability")
    groups = generate(catalog, CATALOG, compress_for_s=480, scrape_interval_s=2)["groups"]
    records = {r["record"] for g in groups if g["name"] == "slo:lms-availability"
               for r in g["rules"] if r.get("record", "").startswith("slo:sli_error:")}
    expected = {w for rule in slo.alerting for w in scaled(slo, rule, 480, 8)}
    assert records == {f"slo:sli_error:ratio_rate{duration(w)}" for w in expected | {30 * 86400}}
    assert min(expected) == 8  # the page rule's 5 min short window, floored
    assert max(expected) == 480  # the ticket's 3 days (six times the run), cut to the run


@pytest.mark.parametrize("seconds, text", [(300, "5m"), (3600, "1h"), (5400, "1h30m"),
                                           (3 * 86400, "3d"), (28 * 86400, "4w"),
                                           (30 * 86400, "30d"), (45, "45s")])
def test_windows_are_named_as_prometheus_prints_durations(seconds: int, text: str) -> None:
    """Sloth's record names come from Prometheus' duration printing: 28 days is 4w."""
    assert duration(seconds) == text


def _series(slo, bad_per_min: list[int], total_per_min: int = 600) -> list[dict]:
    """Counters for every route class of SLO: TOTAL_PER_MIN requests a minute, of which
    BAD_PER_MIN[m] bad in minute m (one sample a minute, as promtool's interval: 1m)."""
    tier = SERVED_BY[slo.indicator.route_classes[0]]

    def counter(per_minute: list[int]) -> str:
        total, values = 0, []
        for count in per_minute:
            values.append(str(total))
            total += count
        return " ".join(values)

    good = [total_per_min - bad for bad in bad_per_min]
    series = []
    for cls in slo.indicator.route_classes:
        where = f'tier="{tier}",route_class="{cls}"'
        if slo.indicator.type == "latency":
            le = f"{slo.indicator.threshold_ms / 1000:g}"
            series += [
                {"series": f"edx_http_request_duration_seconds_count{{{where}}}",
                 "values": counter([total_per_min] * len(bad_per_min))},
                {"series": f'edx_http_request_duration_seconds_bucket{{{where},le="{le}"}}',
                 "values": counter(good)}]
        else:
            series += [{"series": f'edx_http_requests_total{{{where},status="200"}}',
                        "values": counter(good)},
                       {"series": f'edx_http_requests_total{{{where},status="503"}}',
                        "values": counter(bad_per_min)}]
    return series


def _minutes(*spans: tuple[int, int]) -> list[int]:
    """Bad requests per minute from (minutes, bad per minute) spans, in order."""
    return [bad for length, bad in spans for _ in range(length)]


def _promtool_test(tmp_path: Path, rules: Path, tests: list[dict]) -> subprocess.CompletedProcess:
    test_file = tmp_path / "slo-rules.test.yaml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "1m",
                                         "tests": tests}))
    return _promtool("test", "rules", str(test_file))


def _fired(rules: Path, slo_name: str, *rule_names: str) -> list[dict]:
    """promtool's expected alerts: the named rules of SLO_NAME firing, labels and annotations
    as the generated rules carry them, with the Sloth labels of their long window's series
    (promtool compares both whole; the catalog's own windows)."""
    slo = load_catalog(CATALOG).get(slo_name)
    ids = {"sloth_id": f"openedx-{slo_name}", "sloth_service": "openedx", "sloth_slo": slo_name}
    found = []
    for group in yaml.safe_load(rules.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" in rule and rule["labels"]["slo"] == slo_name and \
                    rule["labels"]["rule"] in rule_names:
                window = duration(slo.rule(rule["labels"]["rule"]).long_s)
                found.append({"exp_labels": {**rule["labels"], **ids, "sloth_window": window},
                              "exp_annotations": rule["annotations"]})
    assert len(found) == len(rule_names), (slo_name, rule_names)
    return found


def _alert(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("-")) + "BudgetBurn"


def _lms_rules(tmp_path: Path) -> Path:
    """The generated rules of lms-availability (99.9%) alone: promtool evaluates every rule
    at each step, and the 3-day cases have thousands of steps."""
    catalog = load_catalog(CATALOG)
    path = tmp_path / "lms-rules.yaml"
    path.write_text(render(Catalog(slos=(catalog.get("lms-availability"),)), CATALOG))
    return path


@pytest.mark.integration  # runs promtool
def test_promtool_unit_tests_fire_and_resolve_every_alert(tmp_path: Path) -> None:
    """Per SLO: 60 min of good traffic, 30 min at 50% bad, then good again. Every tier fires
    during the burst; the two pages resolve within 30 min of its end, while the ticket
    holds until its 6 h short window has let the burst go; before it, nothing fires."""
    rules = _write_rules(tmp_path)
    catalog = load_catalog(CATALOG)
    tests = []
    for name in SERVER_SLOS:
        slo = catalog.get(name)
        alert = _alert(name)
        tests.append({
            "interval": "1m",
            "input_series": _series(slo, _minutes((60, 0), (30, 300), (400, 0))),
            "alert_rule_test": [
                {"eval_time": "55m", "alertname": alert, "exp_alerts": []},
                {"eval_time": "85m", "alertname": alert,
                 "exp_alerts": _fired(rules, name, "page", "page-slow", "ticket")},
                {"eval_time": "125m", "alertname": alert,
                 "exp_alerts": _fired(rules, name, "ticket")},
                {"eval_time": "455m", "alertname": alert, "exp_alerts": []},
            ]})
    result = _promtool_test(tmp_path, rules, tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.integration  # runs promtool
def test_a_steady_5x_burn_opens_a_ticket_and_pages_nobody(tmp_path: Path) -> None:
    """0.5% errors for 8 h on a 99.9% SLO: 5x, under both pages (14.4x and 6x) and over the
    ticket's 1x, from its first minutes to the end."""
    rules = _lms_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    alert = _alert(slo.name)
    checks = [{"eval_time": at, "alertname": alert,
               "exp_alerts": _fired(rules, slo.name, "ticket")}
              for at in ("5m", "1h", "6h", "8h")]
    result = _promtool_test(tmp_path, rules, [{
        "interval": "1m", "input_series": _series(slo, _minutes((481, 3))),
        "alert_rule_test": checks,
        # No page at any evaluation, not just at the checked times.
        "promql_expr_test": [{"expr": 'max_over_time(ALERTS{severity="page"}[8h])',
                             "eval_time": "8h", "exp_samples": []}]}])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration  # runs promtool
def test_a_20x_burn_pages_as_the_workbook_computes(tmp_path: Path) -> None:
    """2% errors on a 99.9% SLO (20x). On a fresh series both page windows see only the
    burn: the page fires within minutes. After 6 h of clean traffic the 1 h window must
    fill to 14.4x first: 14.4 / 20 of an hour, 43 min (the workbook's detection time)."""
    rules = _lms_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    alert = _alert(slo.name)
    fresh = {"interval": "1m", "input_series": _series(slo, _minutes((60, 12))),
             "alert_rule_test": [{"eval_time": "3m", "alertname": alert,
                                  "exp_alerts": _fired(rules, slo.name, "page", "page-slow",
                                                       "ticket")}]}
    late = {"interval": "1m", "input_series": _series(slo, _minutes((360, 0), (60, 12))),
            "alert_rule_test": [
                {"eval_time": "400m", "alertname": alert,       # 40 min in: 13.3x
                 "exp_alerts": _fired(rules, slo.name, "ticket")},
                {"eval_time": "405m", "alertname": alert,       # 45 min in: 15x
                 "exp_alerts": _fired(rules, slo.name, "page", "ticket")}]}
    result = _promtool_test(tmp_path, rules, [fresh, late])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration  # runs promtool
def test_a_30_second_outage_after_clean_days_raises_nothing(tmp_path: Path) -> None:
    """A 30 s full outage (half a minute's requests failing) after 3 days of clean traffic:
    8.3x over 1 h, 1.4x over 6 h and 0.12x over 3 days: no tier fires, at any evaluation
    in the 6 h after it."""
    rules = _lms_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    outage_m = 3 * 24 * 60
    result = _promtool_test(tmp_path, rules, [{
        "interval": "1m",
        "input_series": _series(slo, _minutes((outage_m, 0), (1, 300), (361, 0))),
        "promql_expr_test": [{"expr": "max_over_time(ALERTS[361m])",
                             "eval_time": f"{outage_m + 360}m", "exp_samples": []}]}])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration  # runs promtool
def test_a_30_second_outage_on_a_young_series_pages_nobody(tmp_path: Path) -> None:
    """The same outage after only 6 h of traffic: no page; the ticket fires, because its
    3-day window holds only the 6 h there are (30 s of 6 h is 1.4x), until 8.3 h of traffic
    dilute it under 1x. The workbook's windows assume their history exists."""
    rules = _lms_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    alert = _alert(slo.name)
    result = _promtool_test(tmp_path, rules, [{
        "interval": "1m",
        "input_series": _series(slo, _minutes((360, 0), (1, 300), (180, 0))),
        "alert_rule_test": [
            {"eval_time": "400m", "alertname": alert,
             "exp_alerts": _fired(rules, slo.name, "ticket")},
            {"eval_time": "540m", "alertname": alert, "exp_alerts": []}],
        "promql_expr_test": [{"expr": 'max_over_time(ALERTS{severity="page"}[180m])',
                             "eval_time": "540m", "exp_samples": []}]}])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration  # runs promtool
def test_the_page_checks_fail_when_the_outage_is_long(tmp_path: Path) -> None:
    """The guard on the two tests above: a 5-minute outage pages, so the same "no page at
    any evaluation" expectation must fail."""
    rules = _lms_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    result = _promtool_test(tmp_path, rules, [{
        "interval": "1m",
        "input_series": _series(slo, _minutes((360, 0), (5, 600), (180, 0))),
        "promql_expr_test": [{"expr": 'max_over_time(ALERTS{severity="page"}[180m])',
                             "eval_time": "540m", "exp_samples": []}]}])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout + result.stderr


@pytest.mark.integration  # runs promtool
def test_sloth_metadata_series_hold_the_budget_left(tmp_path: Path) -> None:
    """Sloth's dashboards read the objective, the period and the budget remaining: after
    6 h at 0.5% errors (5x) over a 30-day period, 1 - 5 = -4 of the budget is what the
    period's average error ratio says (the period holds only those 6 h)."""
    rules = _lms_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    ids = 'sloth_id="openedx-lms-availability",sloth_service="openedx",sloth_slo="lms-availability"'
    labels = "{" + ids + "}"
    result = _promtool_test(tmp_path, rules, [{
        "interval": "1m", "input_series": _series(slo, _minutes((361, 3))),
        "promql_expr_test": [
            {"expr": f"slo:objective:ratio{labels}", "eval_time": "6h",
             "exp_samples": [{"labels": f"slo:objective:ratio{labels}", "value": 0.999}]},
            {"expr": f"slo:time_period:days{labels}", "eval_time": "6h",
             "exp_samples": [{"labels": f"slo:time_period:days{labels}", "value": 30}]},
            {"expr": f"round(slo:period_error_budget_remaining:ratio{labels}, 0.001)",
             "eval_time": "6h",
             "exp_samples": [{"labels": "{" + ids + ',sloth_window="30d"}', "value": -4}]},
            {"expr": f"round(slo:current_burn_rate:ratio{labels}, 0.001)",
             "eval_time": "6h",
             "exp_samples": [{"labels": "{" + ids + ',sloth_window="5m"}', "value": 5}]}]}])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.integration  # runs promtool
def test_promtool_unit_tests_fail_when_the_burst_is_too_small(tmp_path: Path) -> None:
    """The guard on the test above: a 0.8% burst is under lms-availability's page threshold
    (14.4 x 0.1%), so the expectation that the page fires must fail."""
    rules = _write_rules(tmp_path)
    slo = load_catalog(CATALOG).get("lms-availability")
    series = _series(slo, _minutes((60, 0), (30, 5), (60, 0)))  # 5 of 600 bad
    result = _promtool_test(tmp_path, rules, [{
        "interval": "1m", "input_series": series,
        "alert_rule_test": [{"eval_time": "85m", "alertname": "LmsAvailabilityBudgetBurn",
                             "exp_alerts": _fired(rules, slo.name, "page", "ticket")}]}])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout + result.stderr


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
    # The alerts' and Sloth's own labels cannot be overridden by an SLO's.
    (_slo(labels={"severity": "low"}), "slos.0.labels"),
    (_slo(labels={"sloth_slo": "x"}), "slos.0.labels"),
    (_slo(labels={"team-name": "sre"}), "slos.0.labels"),
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
    # One paragraph (wrapped to the terminal, so its line count follows the path's length),
    # no traceback, and no rules file.
    assert "\n\n" not in result.stderr.strip() and "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.integration
def test_the_cli_writes_rules_promtool_accepts(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    result = run_cli("slo", "rules", "--out", str(out), "--compress-for", "480",
                     "--scrape-interval", "1")
    assert result.returncode == 0, result.stderr
    assert "480 s game day" in out.read_text()
    check = _promtool("check", "rules", str(out))
    assert check.returncode == 0 and "SUCCESS: 64 rules found" in check.stdout, check.stdout
