"""Recording a run in its environment's history once its report is written: at the end of
every game day and capacity run, and for a crashed one when `recover` renders it again;
then the run compared with its series' last runs (comparison.json, which the report shows).
The run's own outcome never depends on the history: one that cannot be written is said,
and the run stands (its comparison then says why it has none)."""

import json
from collections.abc import Callable
from pathlib import Path

from chaoslib_edx.files import replace_text
from chaoslib_edx.history.compare import Baseline, compare
from chaoslib_edx.history.findings import lifecycle
from chaoslib_edx.history.rundirs import record_of
from chaoslib_edx.history.store import History
from chaoslib_edx.platforms import Platform
from chaoslib_edx.report.rundir import COMPARISON


def against_history(history: History, record: dict, baseline: Baseline | None) -> dict:
    """RECORD compared with the runs of its series that started before it, and the
    findings of its game day or plan in its environment as of RECORD: the open ones and
    those it fixed."""
    before = [run for run in history.runs(record["environment"], record["name"])
              if run["run_key"] != record["run_key"]
              and (run["started"] or "") < (record["started"] or "~")]
    series = [run for run in before if run["series"] == record["series"]]
    comparison = compare(record, series, baseline or Baseline())
    if before and not series:
        comparison["note"] = (f"the timeline changed since the last run ({len(before)} earlier "
                              "runs of other timelines): a new series starts here")
    comparison["findings"] = [f for f in lifecycle([*before, record])
                              if f["status"] != "fixed" or f["fixed_run"] == record["run_key"]]
    return comparison


def record_run(platform: Platform, run_dir: Path | str, say: Callable[[str], None],
               baseline: Baseline | None = None) -> dict:
    """Record RUN_DIR and compare it (BASELINE: the run's, else the defaults); the
    comparison, also written to the run directory."""
    try:
        record = record_of(run_dir)
        record["platform_version"] = record["platform_version"] or \
            platform.environment.platform_version
        history = platform.history()
        outcome = history.record(record)
        say(f"history: run {record['run_key']} {outcome} ({platform.environment.name})")
        comparison = against_history(history, record, baseline)
    except Exception as exc:  # the run and its report stand; say what did not
        say(f"history: NOT RECORDED: {type(exc).__name__}: {exc}"[:500])
        comparison = {"compared_with": [], "regressions": [], "findings": [],
                      "note": f"the history could not be read or written: {exc}"[:500]}
    for regression in comparison["regressions"]:
        say(f"REGRESSION: {regression['text']}")
    replace_text(Path(run_dir) / COMPARISON, json.dumps(comparison, indent=2) + "\n")
    return comparison
