"""Regressions and findings across runs, from run directories the tests build out of the
committed example's report (the real sandbox game day recorded at its end is in
tests/gameday/test_runner.py): a fault detected, then undetected, then detected again; a
capacity knee that dropped; the findings filed in Jira, a wire-level fake of its REST API
v3 (tests/jira.py: no real Jira can run here)."""

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.history.compare import Baseline, compare
from chaoslib_edx.history.findings import lifecycle
from chaoslib_edx.history.rundirs import record_of
from tests.conftest import REPO, run_cli
from tests.jira import FakeJira, JiraSite

EXAMPLE = REPO / "docs/examples/course-launch"
CAPACITY = REPO / "docs/examples/capacity-enrollment-peak"


def _gameday_run(root: Path, number: int, failover_detected: bool,
                 detect_s: float = 3.9) -> Path:
    """The example game day as run NUMBER against staging, day NUMBER of March, its
    database failover detected (after DETECT_S) or not."""
    run = root / f"run-{number}"
    run.mkdir(parents=True)
    summary = json.loads((EXAMPLE / "summary.json").read_text())
    summary.update(run_id=f"run-{number}", started=f"2026-03-{number:02d}T10:00:00+00:00",
                   environment="staging (kind staging, driver aws)")
    for row in summary["detection"]:
        if row["experiment"] == "rds-failover":
            row.update(status="detected" if failover_detected else "undetected",
                       detect_s=detect_s if failover_detected else None)
    (run / "summary.json").write_text(json.dumps(summary))
    shutil.copyfile(EXAMPLE / "run.json", run / "run.json")
    return run


def _capacity_run(root: Path, number: int, knee: float) -> Path:
    run = root / f"capacity-{number}"
    run.mkdir(parents=True)
    capacity = json.loads((CAPACITY / "capacity.json").read_text())
    capacity["sweeps"][0]["knee_rate"] = knee
    (run / "capacity.json").write_text(json.dumps(capacity))
    info = json.loads((CAPACITY / "capacity-run.json").read_text())
    info.update(run_id=f"capacity-{number}", started=1772359200.0 + number * 86400)
    (run / "capacity-run.json").write_text(json.dumps(info))
    return run


def test_a_fault_undetected_then_detected_again_is_a_regression_then_fixed(tmp_path) -> None:
    first, second, third = (record_of(_gameday_run(tmp_path, n, detected))
                            for n, detected in ((1, True), (2, False), (3, True)))
    assert first["series"] == second["series"] == third["series"]
    (regression,) = compare(second, [first], Baseline())["regressions"]
    assert regression["kind"] == "newly undetected" and regression["step"] == "rds-failover"
    assert compare(third, [first, second], Baseline())["regressions"] == []

    def failover(runs: list[dict]) -> dict | None:
        return next((f for f in lifecycle(runs) if f["step"] == "rds-failover"), None)

    assert failover([first]) is None
    assert failover([first, second])["status"] == "new"
    fixed = failover([first, second, third])
    assert (fixed["status"], fixed["opened_run"], fixed["fixed_run"]) == \
        ("fixed", "run-2", "run-3")
    # The example's cache eviction was never detected: open all along, 2 days old.
    eviction = next(f for f in lifecycle([first, second, third])
                    if f["step"] == "redis-eviction" and f["kind"] == "undetected")
    assert (eviction["status"], eviction["seen"], eviction["age_days"]) == \
        ("still open", 3, 2.0)


def test_slower_detection_and_more_budget_against_the_median(tmp_path) -> None:
    earlier = [record_of(_gameday_run(tmp_path, n, True, detect_s)) for n, detect_s in
               ((1, 4.0), (2, 6.0), (3, 5.0))]
    now = record_of(_gameday_run(tmp_path, 4, True, 70.0))
    now["slos"][0]["budget_burned"] = earlier[0]["slos"][0]["budget_burned"] * 1.6
    found = compare(now, earlier, Baseline(detect_s_up=60, budget_up=0.5))["regressions"]
    assert [(r["kind"], r["step"]) for r in found] == [("slower detection", "rds-failover"),
                                                       ("more budget burned", "lms-availability")]
    assert found[0]["median"] == 5.0
    assert compare(now, earlier, Baseline(detect_s_up=65, budget_up=0.7))["regressions"] == []
    assert compare(now, [], Baseline())["note"].startswith("no earlier run")
    # Missing now is not compared, never "no regression".
    blind = record_of(_gameday_run(tmp_path, 5, True))
    blind["experiments"][0].update(detection="unknown: monitoring blind from +3 to +9 s",
                                   detect_s=None)
    blind["slos"][0]["budget_burned"] = None
    result = compare(blind, earlier, Baseline())
    assert result["regressions"] == [] and result["not_compared"] == [
        "rds-failover: its detection is unknown: monitoring blind from +3 to +9 s",
        "lms-availability: no requests, so no budget burned to compare"]


def test_a_lower_knee_is_flagged(tmp_path) -> None:
    before, after = (record_of(_capacity_run(tmp_path, n, knee))
                     for n, knee in ((1, 800.0), (2, 600.0)))
    (regression,) = compare(after, [before], Baseline(knee_down=0.2))["regressions"]
    assert (regression["kind"], regression["step"], regression["now"]) == \
        ("lower knee", "normal", 600.0)
    assert compare(after, [before], Baseline(knee_down=0.3))["regressions"] == []


@pytest.mark.integration  # the command line, and the fake Jira's server
def test_the_gate_and_the_findings_through_the_command_line(tmp_path, monkeypatch) -> None:
    site = JiraSite("sre@example.com", "jira-token-1", {"OPS": ["Task", "Bug"]})
    with FakeJira(site) as jira:
        env = tmp_path / "staging.yaml"
        inventory = {"name": "staging", "kind": "staging", "driver": "aws",
                     "aws": {"region": "eu-west-1"}, "state": {"dir": str(tmp_path / "state")},
                     "jira": {"url": jira.url, "project": "OPS", "issue_type": "Task",
                              "email": "sre@example.com", "token_env": "EDX_TEST_JIRA_TOKEN"}}
        env.write_text(yaml.safe_dump(inventory))
        token = {"EDX_TEST_JIRA_TOKEN": "jira-token-1"}
        runs = [_gameday_run(tmp_path / "runs", n, detected)
                for n, detected in ((1, True), (2, False), (3, True))]

        def imported(run: Path) -> object:
            return run_cli("history", "import", str(run), "--env", str(env),
                           "--fail-on-regression")

        assert imported(runs[0]).returncode == 0
        second = imported(runs[1])
        assert second.returncode == 1, second.stdout + second.stderr
        assert "REGRESSION: rds-failover: detected in the last run, undetected now" in \
            second.stdout
        listed = run_cli("findings", "list", "--env", str(env)).stdout
        assert "new        Course launch: rds-failover: learners were hurt and no alert " \
               "fired" in listed
        exported = run_cli("findings", "export", "--jira", "--env", str(env), env=token)
        assert exported.returncode == 0, exported.stderr
        filed = {i["fields"]["summary"]: key for key, i in site.issues.items()}
        failover_key = filed["[staging] Course launch: rds-failover: learners were hurt and "
                             "no alert fired"]
        assert site.issues[failover_key]["fields"]["labels"] == ["chaos-gameday"]
        again = run_cli("findings", "export", "--jira", "--env", str(env), env=token)
        assert again.stdout.splitlines()[-1] == "findings: 0 filed, 0 commented as fixed"

        assert imported(runs[2]).returncode == 0  # detected again: no regression
        assert "fixed      Course launch: rds-failover" in run_cli(
            "findings", "list", "--all", "--env", str(env)).stdout
        fixed = run_cli("findings", "export", "--jira", "--env", str(env), env=token)
        assert fixed.stdout.splitlines()[-1] == "findings: 0 filed, 1 commented as fixed"
        (comment,) = site.comments[failover_key]
        assert "run run-3" in json.dumps(comment)
        assert len(site.issues) == len(filed)  # nothing filed twice

        # Jira's refusals name the inventory's field, exit 2, nothing recorded as filed.
        for field, change in (("jira.project", {"project": "NOPE"}),
                              ("jira.issue_type", {"issue_type": "Epic"}),
                              ("jira.token_env", {})):
            bad = copy.deepcopy(inventory)
            bad["jira"].update(change)
            bad["state"]["dir"] = str(tmp_path / f"state-{field}")
            other = tmp_path / f"{field}.yaml"
            other.write_text(yaml.safe_dump(bad))
            assert run_cli("history", "import", str(runs[1]), "--env", str(other)) \
                .returncode == 0
            refused = run_cli("findings", "export", "--jira", "--env", str(other),
                              env={"EDX_TEST_JIRA_TOKEN": "wrong" if field ==
                                   "jira.token_env" else "jira-token-1"})
            assert refused.returncode == 2, refused.stderr
            assert f"field '{field}'" in " ".join(refused.stderr.split()), refused.stderr


def test_a_views_gap_is_a_finding_and_a_changed_timeline_a_new_series(tmp_path) -> None:
    from chaoslib_edx.history.record import against_history
    from chaoslib_edx.history.store import open_history

    history = open_history(None, None, tmp_path / "state")
    first = _gameday_run(tmp_path, 1, True)
    history.record(record_of(first))
    second = _gameday_run(tmp_path, 2, True)
    summary = json.loads((second / "summary.json").read_text())
    summary["experiments"][0]["slos"]["lms-availability"]["views_disagree"] = True
    (second / "summary.json").write_text(json.dumps(summary))
    run = json.loads((second / "run.json").read_text())
    run["timeline"] = run["timeline"][:2]  # two experiments fewer: another series
    (second / "run.json").write_text(json.dumps(run))
    record = record_of(second)
    history.record(record)
    comparison = against_history(history, record, None)
    assert comparison["compared_with"] == [] and comparison["regressions"] == []
    assert comparison["note"] == ("the timeline changed since the last run (1 earlier runs of "
                                  "other timelines): a new series starts here")
    gap = [f for f in comparison["findings"] if f["kind"] == "views gap"]
    assert [(f["step"], f["status"]) for f in gap] == [("rds-failover", "new")]
