"""New Relic's alert issues as a detection source, through a wire-level fake of NerdGraph
(tests/newrelic.py: no New Relic can run here): issues become firings and the paging ones
pages with the issue's own acknowledgement, across NerdGraph's pagination and only of the
policies named; a bad key, an account the key may not read, a missing key and malformed
ids are refused naming the inventory's field."""

import pytest
import yaml

from chaoslib_edx.context import environment_context
from chaoslib_edx.detection.attribution import Firing, Page
from chaoslib_edx.environment import load_environment
from chaoslib_edx.errors import UserError
from tests.newrelic import FakeNerdGraph, NerdGraphAccount, through_newrelic

pytestmark = pytest.mark.integration  # the fake's server

T0 = 1_800_000_000_000  # epoch milliseconds, as NerdGraph's EpochMilliseconds
CONDITIONS = {"LMS 5xx budget burn": {"slo": "lms-availability", "severity": "page",
                                      "runbook_url": "https://runbooks.example.com/lms"},
              "API latency budget burn": {"slo": "api-latency", "severity": "ticket"}}


def _issue(issue_id: str, condition: str, created: int, activated: int | None,
           closed: int | None, acked: tuple[int, str] | None = None,
           policy: int = 7) -> dict:
    return {"issueId": issue_id, "title": [f"{condition} violated"], "conditionName": [condition],
            "policyIds": [policy], "priority": "CRITICAL", "state": "CLOSED" if closed else
            "ACTIVATED", "createdAt": T0 + created,
            "activatedAt": None if activated is None else T0 + activated,
            "acknowledgedAt": T0 + acked[0] if acked else None,
            "acknowledgedBy": acked[1] if acked else None,
            "closedAt": None if closed is None else T0 + closed}


ISSUES = [_issue("a", "LMS 5xx budget burn", 1000, 3000, 40000, (9000, "ana@example.com")),
          _issue("b", "API latency budget burn", 2000, 2000, None),
          _issue("c", "Disk almost full", 5000, 5000, 6000),
          _issue("d", "LMS 5xx budget burn", 50000, None, None),  # still in its grace period
          _issue("e", "LMS 5xx budget burn", 7000, 7000, 8000, policy=99)]


def _inventory(tmp_path, url: str, **newrelic: object) -> str:
    path = tmp_path / "staging.yaml"
    path.write_text(yaml.safe_dump({
        "name": "staging", "kind": "staging", "driver": "aws", "aws": {"region": "eu-west-1"},
        "detection": {"newrelic": {"account_id": 123456, "api_key_env": "EDX_TEST_NR_KEY",
                                   "policy_ids": [7], "conditions": CONDITIONS,
                                   "base_url": f"{url}/graphql", **newrelic}}}))
    return str(path)


def test_issues_are_firings_and_paging_ones_pages_with_their_acks(tmp_path, monkeypatch) -> None:
    account = NerdGraphAccount(123456, "NRAK-good", ISSUES, page_size=2)
    with FakeNerdGraph(account) as nerdgraph:
        monkeypatch.setenv("EDX_TEST_NR_KEY", "NRAK-good")
        source = environment_context(_inventory(tmp_path, nerdgraph.url)).platform.detection()
        assert source.name == "newrelic"
        source.check()
        start, end = T0 / 1000, T0 / 1000 + 60
        assert source.firings(start, end) == [
            Firing("LMS 5xx budget burn", "lms-availability", "page", start + 1, start + 40,
                   "https://runbooks.example.com/lms"),
            Firing("API latency budget burn", "api-latency", "ticket", start + 2, end),
            Firing("Disk almost full", "", "", start + 5, start + 6),
            Firing("LMS 5xx budget burn", "lms-availability", "page", start + 50, end,
                   "https://runbooks.example.com/lms")]  # in its grace period: no page yet
        assert source.pages(start, end) == [
            Page("LMS 5xx budget burn", "lms-availability", "a", start + 3, start + 9,
                 "ana@example.com")]
    issues_asked = [d for d in account.documents if "aiIssues" in d["query"]]
    assert [d["variables"]["cursor"] for d in issues_asked] == [None, "2", "4"] * 2
    assert issues_asked[0]["variables"]["start"] == T0 and \
        issues_asked[0]["variables"]["end"] == T0 + 60000


@pytest.mark.parametrize("key, account_id, field", [
    ("NRAK-wrong", 123456, "detection.newrelic.api_key_env"),
    ("NRAK-good", 654321, "detection.newrelic.account_id")])
def test_a_bad_key_or_account_is_refused_naming_the_field(tmp_path, monkeypatch, key,
                                                         account_id, field) -> None:
    with FakeNerdGraph(NerdGraphAccount(123456, "NRAK-good", ISSUES)) as nerdgraph:
        monkeypatch.setenv("EDX_TEST_NR_KEY", key)
        env = _inventory(tmp_path, nerdgraph.url, account_id=account_id)
        with pytest.raises(UserError) as err:
            environment_context(env).platform.detection().check()
    assert err.value.field == field and err.value.file == env


def test_a_missing_key_or_malformed_ids_are_refused_naming_the_field(tmp_path,
                                                                    monkeypatch) -> None:
    monkeypatch.delenv("EDX_TEST_NR_KEY", raising=False)
    env = _inventory(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(UserError) as err:
        environment_context(env).platform.detection()
    assert err.value.field == "detection.newrelic.api_key_env"
    for change, field in (({"account_id": "edx"}, "detection.newrelic.account_id"),
                          ({"policy_ids": [0]}, "detection.newrelic.policy_ids.0"),
                          ({"region": "APAC"}, "detection.newrelic.region")):
        with pytest.raises(UserError) as err:
            load_environment(_inventory(tmp_path, "http://127.0.0.1:9", **change))
        assert err.value.field == field, change


def test_a_real_runs_alerts_through_new_relic_give_the_same_detection_table(
        tmp_path, monkeypatch) -> None:
    """The committed example (a real sandbox game day): its Prometheus firings and pager
    pages given to the fake as New Relic issues must give the report the same detection
    table (tests/gameday/test_detection.py does the same with a run of this session)."""
    import json
    import shutil

    from tests.conftest import REPO

    run = tmp_path / "run"
    shutil.copytree(REPO / "docs/examples/course-launch", run)
    monkeypatch.setenv("EDX_TEST_NR_KEY", "NRAK-fed")
    after = through_newrelic(run, {"name": "staging", "kind": "staging", "driver": "aws",
                                   "aws": {"region": "eu-west-1"}}, "EDX_TEST_NR_KEY")
    before = json.loads((REPO / "docs/examples/course-launch/summary.json").read_text())
    assert after["detection_source"] == "newrelic"
    assert after["detection"] == before["detection"]
    assert {row["status"] for row in after["detection"]} >= {"detected", "undetected"}


def test_nrql_slis_per_window_agree_with_the_data_and_no_data_is_never_good(
        tmp_path, monkeypatch) -> None:
    """An SLO's NRQL good/total over each fault's window, as the fake's events give it; a
    window without events is blind (unknown), never 100%."""
    from chaoslib_edx.detection.attribution import Observed
    from chaoslib_edx.detection.source import snapshot
    from chaoslib_edx.slo.catalog import NrqlSli, load_catalog
    from tests.conftest import REPO

    good, total = ("SELECT count(*) FROM Transaction WHERE appName = 'lms' AND "
                   "httpResponseCode < 500", "SELECT count(*) FROM Transaction WHERE "
                   "appName = 'lms'")
    second = 1000
    # 0-60 s: 100 a second, 3 of them errors from 20 s to 30 s; nothing from 60 s to 90 s.
    events = {total: [(T0 + s * second, 100) for s in range(60)],
              good: [(T0 + s * second, 97 if 20 <= s < 30 else 100) for s in range(60)],
              "SELECT count(*) FROM Transaction": [(T0 + s * second, 100) for s in range(60)]}
    slo = load_catalog(REPO / "gamedays/slos.yaml").get("lms-availability") \
        .model_copy(update={"newrelic": NrqlSli(good=good, total=total)})
    with FakeNerdGraph(NerdGraphAccount(123456, "NRAK-good", [], events=events)) as nerdgraph:
        monkeypatch.setenv("EDX_TEST_NR_KEY", "NRAK-good")
        source = environment_context(_inventory(tmp_path, nerdgraph.url)).platform.detection()
        t0 = T0 / 1000
        assert source.good_share(slo, t0 + 20, t0 + 30) == pytest.approx(0.97)
        assert source.good_share(slo, t0 + 10, t0 + 30) == pytest.approx(0.985)
        assert source.good_share(slo, t0 + 40, t0 + 50) == 1.0
        assert source.good_share(slo, t0 + 60, t0 + 90) is None  # no data: never 100%
        assert source.blind(t0 + 60, t0 + 90) == [(t0 + 60, t0 + 90)]
        assert source.blind(t0 + 20, t0 + 30) == []
        kept = snapshot(source, [Observed("slow", t0 + 20, t0 + 30),
                                 Observed("dark", t0 + 60, t0 + 90)], [slo], t0, t0 + 90)
    assert kept["server_slos"] == {"slow": {"lms-availability": pytest.approx(0.97)},
                                   "dark": {"lms-availability": None}}
    assert kept["blind"] == {"slow": [], "dark": [[t0 + 60, t0 + 90]]}
