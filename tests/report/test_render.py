"""Reports from a crafted run directory: hand-checkable numbers, escaping, every file."""

import json
import logging
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.ledger import Ledger
from chaoslib_edx.load.recorder import ClassStats, new_histogram
from chaoslib_edx.report.render import render
from tests.conftest import REPO, write_yaml
from tests.recovery.runs import crashed_run_entry

T0 = 1_800_000_000
CATALOG = REPO / "gamedays/slos.yaml"
HOSTILE = '<script>alert("x")</script>'


def _second(ok: int, errors: int, ms: float) -> dict:
    hist = new_histogram()
    hist.record_value(int(ms * 1000), ok + errors)
    stats = ClassStats(ok + errors, errors, errors, hist).to_json()
    return {"lms": stats, "api": stats}


def _run_dir(tmp_path: Path, crashed: bool = False) -> Path:
    """60 s of load; fault live from s=20 to s=30 with 10% server errors in s=22..27."""
    run = tmp_path / "run"
    (run / "journals").mkdir(parents=True)
    with (run / "metrics.jsonl").open("w") as out:
        for s in range(60):
            bad = 10 if 22 <= s < 28 else 0
            out.write(json.dumps({"t": T0 + s, "users": 10,
                                  "classes": _second(100 - bad, bad, 20)}) + "\n")
    events = [{"t": T0 + 20, "event": "fault_start", "experiment": "lms-pod-kill"}]
    if not crashed:
        events.append({"t": T0 + 30, "event": "fault_end", "experiment": "lms-pod-kill"})
        (run / "journals" / "lms-pod-kill.json").write_text(
            json.dumps({"status": "completed", "deviated": True}))
    (run / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events)
                                        + ('{"t": 1800000031, "ev' if crashed else ""))
    (run / "run.json").write_text(json.dumps({
        "name": f"course launch {HOSTILE}", "description": HOSTILE, "environment": "sandbox",
        "status": "aborted" if crashed else "completed", "roles": {"game master": HOSTILE},
        "slos": ["lms-availability", "api-latency"]}))
    return run


def test_every_file_with_hand_checked_figures(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    summary = render(run, CATALOG)
    for name in ("index.html", "summary.json", "summary.md", "junit.xml", "postmortem.md"):
        assert (run / name).stat().st_size > 0, name
    (experiment,) = summary["experiments"]
    assert experiment["verdict"] == "deviated"
    lms = experiment["slos"]["lms-availability"]
    assert lms["before"] == 1.0 and lms["after"] == 1.0
    assert lms["during"] == pytest.approx(1 - 120 / 2000)   # 6 s x 20 bad of 10 s x 200
    assert lms["time_to_detect_s"] == 2                      # first bad second is s=22
    assert lms["time_to_recover_s"] == 0                     # clean again from s=30
    overall = {s["name"]: s for s in summary["slos"]}
    lms_overall = overall["lms-availability"]
    assert lms_overall["burn_rate"] == pytest.approx((120 / 12000) / 0.001)  # 10x
    # 120 bad requests; at 200 requests/s a 30-day period allows 0.1% of 518.4 M bad.
    assert lms_overall["budget_burned"] == pytest.approx(120 / (0.001 * 200 * 30 * 86400))
    assert "0.023% of 30 d" in (run / "summary.md").read_text()
    assert overall["api-latency"]["met"] is True
    postmortem = (run / "postmortem.md").read_text()
    for heading in ("## Timeline", "## Impact", "## What went well", "## What went wrong",
                    "## Action items"):
        assert heading in postmortem
    assert "2027-01-15 08:00:20 | fault_start: lms-pod-kill" in postmortem
    assert "lms-availability breached after 2 s, back 0 s after the fault ended" in postmortem
    suite = ET.parse(run / "junit.xml").getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "2"  # rollbacks: none pending


def test_html_escapes_input_and_has_table_and_charts(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    render(run, CATALOG)
    html = (run / "index.html").read_text()
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert 'id="slo-table"' in html
    assert html.count('class="chart"') == 3 and html.count("<svg") == 3
    # Self-contained: nothing to fetch (namespace URIs in the SVG are only names).
    for loader in ('src="http', "src='http", 'href="http', "<link", "@import"):
        assert loader not in html, loader


def test_rendering_again_gives_the_same_bytes_and_own_clip_paths(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    render(run, CATALOG)
    first = (run / "index.html").read_bytes()
    render(run, CATALOG)
    assert (run / "index.html").read_bytes() == first
    # Each chart's clip paths stay its own: every url(#id) is defined once in the page.
    html = first.decode()
    defined = re.findall(r' id="([^"]+)"', html)
    referenced = set(re.findall(r'url\(#([^)]+)\)', html))
    assert len(referenced) >= 3
    assert all(defined.count(ref) == 1 for ref in referenced), referenced


def test_a_run_that_crashed_mid_fault_still_renders(tmp_path: Path) -> None:
    run = _run_dir(tmp_path, crashed=True)
    summary = render(run, CATALOG)
    (experiment,) = summary["experiments"]
    assert experiment["verdict"] == "interrupted mid-fault (the runner died: no journal)"
    assert experiment["fault_end"] is None and summary["status"] == "aborted"


def test_a_killed_run_renders_as_crashed_with_its_pending_rollbacks(tmp_path: Path) -> None:
    """A SIGKILLed runner never wrote its end: run.json still says running, for a pid that
    is gone. The report says crashed, and every output names what is pending in the
    environment's ledger and the exact command that rolls it back."""
    run = _run_dir(tmp_path, crashed=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    env = write_yaml(tmp_path / "env.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": str(tmp_path / "state"), "port_base": 23000}})
    ledger = tmp_path / "ledger.jsonl"
    crashed_run_entry(Ledger(ledger), tmp_path, "failover_database",
                      "chaoslib_edx.rds.actions:restore_database", {"database": "edxapp"})
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "running", "pid": dead.pid,
                                              "env_file": str(env),
                                              "ledger_file": str(ledger)}))
    summary = render(run, CATALOG)
    command = f"edx-gameday recover --env {env} --ledger {ledger}"
    assert summary["status"] == "crashed"
    assert summary["pending_rollbacks"] == ["chaoslib_edx.rds.actions:restore_database"]
    assert summary["recover_command"] == command
    for name in ("index.html", "summary.md", "postmortem.md", "junit.xml"):
        assert command in (run / name).read_text(), name
    suite = ET.parse(run / "junit.xml").getroot()
    (rollbacks,) = [c for c in suite if c.get("name") == "rollbacks"]
    assert rollbacks.find("failure") is not None


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no run.json"):
        render(tmp_path, CATALOG)


@pytest.mark.integration
def test_cli_renders_and_bad_dir_is_exit_2(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    run = _run_dir(tmp_path)
    result = run_cli("report", str(run), "--slos", str(CATALOG))
    assert result.returncode == 0, result.stderr
    assert (run / "index.html").exists() and "index.html" in result.stdout
    missing = run_cli("report", str(tmp_path / "nope"), "--slos", str(CATALOG))
    assert missing.returncode == 2 and "no run.json" in missing.stderr


def test_damaged_run_files_are_skipped_line_by_line_and_never_hang(tmp_path: Path,
                                                                  caplog) -> None:
    """Garbage mid-timeline, a cut metrics line, a second years away, a journal that is
    not JSON: each is skipped with a warning naming file and line; the rest still counts,
    and the report renders at once instead of walking the gap."""
    run = _run_dir(tmp_path)
    lines = (run / "timeline.jsonl").read_text().splitlines()
    (run / "timeline.jsonl").write_text("\n".join([lines[0], "garbage", *lines[1:]]) + "\n")
    with (run / "metrics.jsonl").open("a") as out:
        out.write(json.dumps({"t": 10**12, "classes": {}}) + "\n")  # years after the run
        out.write('{"t": 1800000061, "classes": {"lms": \n')           # cut mid-line
    (run / "journals" / "extra.json").write_text("{not json")
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="chaostoolkit"):
        summary = render(run, CATALOG)
    assert time.monotonic() - began < 30
    (experiment,) = [e for e in summary["experiments"] if e["name"] == "lms-pod-kill"]
    assert experiment["fault_end"] == T0 + 30      # the event after the garbage still counts
    assert summary["duration_s"] == 60
    assert f"{run / 'timeline.jsonl'}:2: skipping a line that is not a timeline event" \
        in caplog.text
    assert f"{run / 'metrics.jsonl'}:62: skipping a line that is not per-second metrics" \
        in caplog.text
    assert "1 seconds of metrics lie outside the run's span" in caplog.text
    assert f"{run / 'journals' / 'extra.json'}: skipping a journal that is not JSON" \
        in caplog.text


def test_an_slo_without_requests_is_no_data_in_every_output(tmp_path: Path) -> None:
    """The run's catalog names video delivery, yet no video request was ever made: the SLO
    is neither met nor missed but 'no data', in summary.json, the console's lines, the
    HTML, summary.md, JUnit (a failure: never a pass) and the postmortem."""
    from chaoslib_edx.gameday.outputs import Outcome

    run = _run_dir(tmp_path)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "slos": ["api-latency",
                                                               "video-delivery"]}))
    summary = render(run, CATALOG)
    video = next(s for s in summary["slos"] if s["name"] == "video-delivery")
    assert video["met"] is None and video["total"] == 0
    assert video["no_data"] == "no data: no requests in the window"
    during = summary["experiments"][0]["slos"]["video-delivery"]
    assert during["met_during"] is None and during["during"] is None
    outcome = Outcome.of(run, "completed", None, summary)
    assert outcome.code == 1  # an SLO that cannot be judged is no pass
    assert "SLOs over the run: 1 of 2 met; no data (no requests): video-delivery" \
        in outcome.lines()
    for name in ("index.html", "summary.md"):
        assert "no data: no requests in the window" in (run / name).read_text(), name
    (case,) = [c for c in ET.parse(run / "junit.xml").getroot() if c.get("name") ==
               "video-delivery"]
    assert "no data" in case.find("failure").get("message")
    assert "cannot be judged: no data: no requests in the window" in \
        (run / "postmortem.md").read_text()


def _with_detection(run: Path, snapshot: dict) -> Path:
    (run / "detection.json").write_text(json.dumps(snapshot))
    return run


def test_blind_monitoring_is_unknown_never_undetected_in_every_output(tmp_path: Path) -> None:
    """The fault hurt learners (10% errors) while Prometheus did not scrape from +2 to
    +15 s: no alert could have fired, so the detection is unknown, naming the blind span
    and the source, and the servers' view is no data; in every output, never a pass."""
    from chaoslib_edx.gameday.outputs import Outcome

    run = _with_detection(_run_dir(tmp_path), {
        "source": "prometheus", "firings": [], "pages": [],
        "blind": {"lms-pod-kill": [[T0 + 22, T0 + 35]]},
        "server_slos": {"lms-pod-kill": {"lms-availability": None, "api-latency": None}}})
    summary = render(run, CATALOG)
    (row,) = summary["detection"]
    status = "unknown: monitoring blind from +2 to +15 s (prometheus)"
    assert row["status"] == status and row["blind"] == [[2, 15]]
    servers = summary["experiments"][0]["slos"]["lms-availability"]
    assert servers["server_good_share"] is None
    assert servers["server_no_data"] == "no data: monitoring blind from +2 to +15 s (prometheus)"
    outcome = Outcome.of(run, "completed", None, summary)
    assert f"detection: lms-pod-kill: {status}" in outcome.lines() and outcome.code == 1
    assert not any("UNDETECTED" in line for line in outcome.lines())
    for name in ("index.html", "summary.md", "postmortem.md"):
        text = (run / name).read_text()
        assert status in text and "undetected" not in text.lower(), name
    assert "no data: monitoring blind" in (run / "index.html").read_text()
    (case,) = [c for c in ET.parse(run / "junit.xml").getroot()
               if c.get("classname") == "detection"]
    assert case.find("failure").get("message") == status


def test_monitoring_unreadable_at_report_time_is_named_in_every_output(tmp_path: Path) -> None:
    from chaoslib_edx.gameday.outputs import Outcome

    error = "ConnectionError: Read timed out. (read timeout=10)"
    run = _with_detection(_run_dir(tmp_path), {"source": "prometheus", "error": error})
    summary = render(run, CATALOG)
    line = f"unknown: the alerts and pages could not be read from prometheus: {error}"
    outcome = Outcome.of(run, "completed", None, summary)
    assert f"detection: {line}" in outcome.lines() and outcome.code == 1
    for name in ("index.html", "summary.md", "postmortem.md", "junit.xml"):
        text = (run / name).read_text()
        assert "prometheus" in text and "Read timed out" in text, name
        assert "(None)" not in text and "None" not in text.replace("NoneType", ""), name
    (case,) = [c for c in ET.parse(run / "junit.xml").getroot() if c.get("name") == "monitoring"]
    assert case.find("failure").get("message") == line


def test_only_web_urls_become_links(tmp_path: Path) -> None:
    """A runbook URL from the monitoring (a rule's annotation, an alarm's settings) that is
    not http(s) is shown as text: never a link a reader could click."""
    firing = {"alert": "LmsAvailabilityBudgetBurn", "slo": "lms-availability",
              "severity": "page", "start": T0 + 23, "end": T0 + 29}
    run = _with_detection(_run_dir(tmp_path), {
        "source": "prometheus", "pages": [], "server_slos": {}, "firings": [
            {**firing, "runbook_url": "javascript:alert(document.cookie)"},
            {**firing, "alert": "Other", "runbook_url": " JavaScript:alert(1)"},
            {**firing, "alert": "Third", "runbook_url": "https://runbooks.example.com/lms"}]})
    render(run, CATALOG)
    html = (run / "index.html").read_text()
    assert '<a href="https://runbooks.example.com/lms">' in html
    assert html.count("<a href=") == 1 and "javascript:alert(document.cookie)" in html


def test_a_breach_the_previous_fault_left_is_not_this_faults_impact(tmp_path: Path) -> None:
    """Errors up to the second before the fault went live, none after: the fault's
    impact windows start at its start, so it had no impact, and no alert is no miss."""
    run = _run_dir(tmp_path)
    with (run / "metrics.jsonl").open("w") as out:
        for s in range(60):
            bad = 30 if 15 <= s < 20 else 0
            out.write(json.dumps({"t": T0 + s, "users": 10,
                                  "classes": _second(100 - bad, bad, 20)}) + "\n")
    _with_detection(run, {"source": "prometheus", "firings": [], "pages": [],
                          "server_slos": {}, "blind": {}})
    summary = render(run, CATALOG)
    rows = summary["experiments"][0]["slos"]
    assert rows["lms-availability"]["time_to_detect_s"] is None, rows
    assert summary["detection"][0]["status"] == "no impact, no alert"


def test_a_fault_without_requests_is_no_proof_of_no_impact(tmp_path: Path) -> None:
    """No request while the fault was live, and no alert: not "no impact", unknown."""
    run = _run_dir(tmp_path)
    with (run / "metrics.jsonl").open("w") as out:
        for s in list(range(20)) + list(range(31, 60)):
            out.write(json.dumps({"t": T0 + s, "users": 10,
                                  "classes": _second(100, 0, 20)}) + "\n")
    _with_detection(run, {"source": "prometheus", "firings": [], "pages": [],
                          "server_slos": {}, "blind": {}})
    summary = render(run, CATALOG)
    assert summary["detection"][0]["status"] == \
        "unknown: no requests while the fault was live"


def test_the_teams_notes_and_actions_are_in_every_output_in_order(tmp_path: Path) -> None:
    """Notes taken in the console (one hostile, one with Markdown's newlines and pipes),
    a hold, an acknowledgement, and an alert and a page from the monitoring: the report,
    summary.json and the postmortem's Observations list them in time order, as text."""
    run = _run_dir(tmp_path)
    team = [{"t": T0 + 1, "event": "load_start"},
            {"t": T0 + 21, "event": "note", "text": HOSTILE, "by": "ana", "role": "observer",
             "during": "lms-pod-kill"},
            {"t": T0 + 25, "event": "ack", "by": "bo", "role": "on_call", "pages": ["k1"]},
            {"t": T0 + 40, "event": "note", "text": "back\nat | 40 s", "by": "bo",
             "role": "on_call", "during": None},
            {"t": T0 + 41, "event": "hold", "by": "gm", "role": "game_master"},
            {"t": T0 + 46, "event": "release", "by": "gm", "role": "game_master",
             "held_s": 5.0}]
    with (run / "timeline.jsonl").open("a") as timeline:
        timeline.write("".join(json.dumps(e) + "\n" for e in team))
    _with_detection(run, {"source": "prometheus", "firings": [
        {"alert": "LmsAvailabilityBudgetBurn", "slo": "lms-availability", "severity": "page",
         "start": T0 + 23, "end": T0 + 33}], "pages": [
        {"alert": "LmsAvailabilityBudgetBurn", "slo": "lms-availability", "dedup_key": "k1",
         "received": T0 + 24, "acked": T0 + 25, "acked_by": "bo"}]})
    summary = render(run, CATALOG)
    first, second = summary["notes"]
    assert (first["text"], first["by"], first["role"], first["during"], first["run_s"]) == \
        (HOSTILE, "ana", "observer", "lms-pod-kill", 20.0)
    assert second["during"] is None and summary["holds"][0]["held_s"] == 5.0
    kinds = [o["kind"] for o in summary["observations"]]
    assert kinds == ["fault_start", "note", "alert", "page", "ack", "page_ack", "fault_end",
                     "note", "hold", "release"]
    html = (run / "index.html").read_text()
    assert HOSTILE not in html and 'id="observations"' in html
    assert "note by ana (observer) during lms-pod-kill: &lt;script&gt;" in html
    postmortem = (run / "postmortem.md").read_text()
    observations = postmortem.split("## Observations")[1].split("## Impact")[0]
    lines = [line for line in observations.splitlines() if line.startswith("- ")]
    assert len(lines) == 10 and lines[1].startswith("- +20.0 s (")
    assert "note by bo (on call): back at \\| 40 s" in lines[7]
    assert HOSTILE not in postmortem


def test_regressions_from_the_history_are_in_every_output(tmp_path: Path) -> None:
    """The history's comparison (comparison.json): the report's section, summary.md, the
    postmortem, JUnit, and the open findings with their age."""
    run = _run_dir(tmp_path)
    (run / "comparison.json").write_text(json.dumps({
        "compared_with": ["r1", "r2"], "note": None, "regressions": [
            {"kind": "newly undetected", "step": "lms-pod-kill",
             "text": "lms-pod-kill: detected in the last run, undetected now"}],
        "findings": [{"key": "k", "status": "new", "text": "lms-pod-kill: learners were hurt "
                      "and no alert fired", "opened": "2026-03-02", "age_days": 0.0,
                      "seen": 1, "opened_run": "r3", "fixed_run": None}]}))
    summary = render(run, CATALOG)
    assert summary["comparison"]["compared_with"] == ["r1", "r2"]
    text = "lms-pod-kill: detected in the last run, undetected now"
    assert f"Regression: {text}" in (run / "index.html").read_text()
    assert f"**REGRESSION: {text}.**" in (run / "summary.md").read_text()
    postmortem = (run / "postmortem.md").read_text()
    assert f"Regression against the last runs: {text}." in postmortem
    assert "- **new**: lms-pod-kill: learners were hurt and no alert fired (opened " \
           "2026-03-02, 0.0 days ago; seen in 1 runs)." in postmortem
    (suite,) = ET.parse(run / "junit.xml").getroot().iter("testsuite")
    case = next(c for c in suite if c.get("classname") == "history")
    assert case.get("name") == "newly undetected: lms-pod-kill" and case.find("failure") \
        is not None
    # A value missing now is said, never folded into "No regression".
    comparison = json.loads((run / "comparison.json").read_text())
    comparison.update(regressions=[], not_compared=["api-latency: no requests, so no budget "
                                                    "burned to compare"])
    (run / "comparison.json").write_text(json.dumps(comparison))
    render(run, CATALOG)
    for name in ("index.html", "summary.md"):
        text = (run / name).read_text()
        assert "Not compared (no data now): api-latency: no requests" in text, name
        assert "No regression" not in text, name
    # A damaged comparison says so instead of vanishing.
    (run / "comparison.json").write_text("{not json")
    assert render(run, CATALOG)["comparison"]["note"].startswith("comparison.json is damaged")


def test_the_budgets_at_the_start_and_who_passed_one_are_in_the_report(tmp_path: Path
                                                                         ) -> None:
    """The gate's record in run.json: the report's section, summary.md, summary.json."""
    from chaoslib_edx.slo import gate

    run = _run_dir(tmp_path)
    spec = gate.BudgetGate(min_remaining=0.25, source="newrelic")
    budgets = [gate.Budget("authentication", 30, 0.999988, 0.12, False, True),
               gate.Budget("lms-availability", 30, 0.9998, 0.8, True)]
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info,
                                              "budget_gate": gate.record(spec, budgets)}))
    summary = render(run, CATALOG)
    assert [b["remaining"] for b in summary["budget_gate"]["budgets"]] == [0.12, 0.8]
    by = summary["budget_gate"]["ignored_by"]
    assert by
    page = (run / "index.html").read_text()
    assert "Error budgets at the start" in page and 'id="budget-gate"' in page
    assert (f"authentication has 12% of its 30-day budget left: below the gate, passed by "
            f"{by} with --ignore-budget-gate") in page
    assert "lms-availability has 80% of its 30-day budget left: above the gate" in page
    assert (f"authentication has 12% of its 30-day budget left (**below the gate, passed "
            f"by {by} with --ignore-budget-gate**)") in (run / "summary.md").read_text()
