"""Detection drills on the sandbox's real monitoring: the database failover must page
through an alert on the LB's SLOs (acknowledged by the simulated on-call), and the
cache eviction, which only learners see (lost sessions), must come out undetected: in
summary.json, the report, JUnit and the exit code; and the same alerts read through New
Relic give the same table. (The origin loss is no sure page: a
warm CDN edge serves most videos from its cache, and a handful of misses is a breach the
page's burn rate rightly ignores.)"""

import json

import yaml
from junitparser import JUnitXml

from chaoslib_edx.detection.attribution import PAGE_SLACK_S
from tests.conftest import REPO, assert_witnessed, compressed_gameday, run_cli
from tests.newrelic import through_newrelic


def _eviction_without_auth_probe(tmp_path) -> str:
    """The shipped cache eviction, its steady state without the authentication probe:
    the test's 8 learners may sign in nobody in its 10 s window, which is no data, not
    met; the detection is under test here, not that probe."""
    experiment = yaml.safe_load((REPO / "experiments/redis-eviction.yaml").read_text())
    probes = experiment["steady-state-hypothesis"]["probes"]
    experiment["steady-state-hypothesis"]["probes"] = [
        p for p in probes if p["name"] != "authentication-within-slo"]
    assert len(experiment["steady-state-hypothesis"]["probes"]) == len(probes) - 1
    path = tmp_path / "redis-eviction.yaml"
    path.write_text(yaml.safe_dump(experiment))
    return str(path)


def test_one_fault_pages_and_one_goes_undetected(sandbox, tmp_path, monkeypatch) -> None:
    # The eviction first: the failover's rollback fails a few writes, and a steady state
    # right after it would rightly refuse to start.
    path = compressed_gameday(tmp_path, sandbox, [(_eviction_without_auth_probe(tmp_path), 0),
                                                  ("rds-failover", 40)],
                              slos=("lms-availability", "session-continuity"))
    spec = yaml.safe_load(path.read_text())
    spec["detection"] = {"auto_ack_after_s": 3, "mtta_s": 60}
    path.write_text(yaml.safe_dump(spec))
    run_dir = tmp_path / "run"
    result = run_cli("run", str(path), "--out", str(run_dir),
                     env={"EDX_LEDGER": str(tmp_path / "ledger.jsonl")}, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert "UNDETECTED: redis-eviction" in result.stdout

    summary = json.loads((run_dir / "summary.json").read_text())
    assert_witnessed(summary)
    assert summary["detection_source"] == "prometheus" and summary["detection_error"] is None
    rows = {row["experiment"]: row for row in summary["detection"]}
    failover, eviction = rows["rds-failover"], rows["redis-eviction"]
    # A page from the LB's SLOs: sign-ins fail with the database down as LMS requests do,
    # so lms-availability's or authentication's page may come first.
    pages = {"LmsAvailabilityBudgetBurn (page)", "AuthenticationBudgetBurn (page)"}
    assert failover["status"] == "detected" and pages & set(failover["alerts"]), failover
    # The firing's start is Prometheus' first sample of it (a range query's step), the
    # page's the pager's own clock: a page may come up to PAGE_SLACK_S before the sample,
    # as attribution allows (seen: 0.6 s under a loaded machine).
    assert 0 < failover["detect_s"] <= failover["page_s"] + PAGE_SLACK_S, failover
    assert failover["page_s"] < 60, failover
    assert failover["ack_simulated"] and failover["ack_s"] == round(failover["page_s"] + 3, 3)
    assert failover["slo"] in ("lms-availability", "authentication") and failover["ack_met"]
    assert failover["mttd_s"] == 300 and failover["detect_met"]
    assert {f"https://runbooks.example.com/edx/{slo}" for slo in
            ("lms-availability", "authentication")} & set(failover["runbooks"])
    assert eviction["status"] == "undetected" and eviction["alerts"] == []
    assert (eviction["detect_s"], eviction["page_s"], eviction["ack_s"]) == (None, None, None)
    # The learners' view next to the servers': the LB logged the failover's 5xx too.
    lms = summary["experiments"][1]["slos"]["lms-availability"]
    assert lms["server_good_share"] is not None and lms["server_good_share"] < 1

    html = (run_dir / "index.html").read_text()
    assert 'id="detection"' in html and 'id="undetected"' in html
    assert any(page in html for page in pages) and "(simulated)" in html
    (suite,) = JUnitXml.fromfile(str(run_dir / "junit.xml"))
    detection = {case.name: case for case in suite if case.classname == "detection"}
    assert set(detection) == {"rds-failover", "redis-eviction"}
    assert detection["rds-failover"].is_passed
    assert not detection["redis-eviction"].is_passed
    postmortem = (run_dir / "postmortem.md").read_text()
    what_went_wrong = postmortem.split("## What went wrong", 1)[1]
    assert "redis-eviction: learners were hurt and no alert fired" in what_went_wrong

    # The same run's alerts and pages fed to a fake New Relic (NerdGraph at the HTTP
    # level) and read back through the sandbox inventory's detection.newrelic: the same
    # detection table.
    monkeypatch.setenv("EDX_TEST_NR_KEY", "NRAK-fed")
    after = through_newrelic(run_dir, yaml.safe_load(sandbox.env_file.read_text()),
                             "EDX_TEST_NR_KEY")
    assert after["detection_source"] == "newrelic"
    assert after["detection"] == summary["detection"]
