"""Write a run's report files: index.html, summary.json, summary.md, junit.xml and a
prefilled blameless postmortem.md."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from chaoslib_edx.errors import UserError
from chaoslib_edx.report.charts import charts
from chaoslib_edx.report.detection import detection_lines
from chaoslib_edx.report.rundir import CATALOG_COPY, RunDir, read_comparison
from chaoslib_edx.report.summary import summarize
from chaoslib_edx.slo.catalog import load_catalog

# Built once, autoescaping every template, the Markdown ones too: summary.md and
# postmortem.md end up rendered as HTML in tickets, where the entities display as text.
_TEMPLATES = Environment(loader=PackageLoader("chaoslib_edx.report", "templates"),
                         autoescape=select_autoescape(["html", "j2"]),
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.3f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _value(slo: dict) -> str:
    """An SLO's value against its target, in its own unit; "no data", and why, without one."""
    if slo.get("no_data"):
        return slo["no_data"]
    if slo["type"] == "latency":
        return f"{_num(slo['value'])} ms (target < {_num(slo['threshold_ms'], 0)} ms)"
    return f"{_pct(slo['value'])} (target {_pct(slo['objective'])})"


def _reading(value: float | None, kind: str) -> str:
    """A value of an SLO of KIND: a share as a percentage, a latency in ms."""
    return f"{_num(value)} ms" if kind == "latency" and value is not None else _pct(value)


def _secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.0f} s"


def _people(who: str | list[str]) -> str:
    """A role's holder, or its holders joined."""
    return who if isinstance(who, str) else ", ".join(who)


# Only what a browser would open as a web page: no javascript: or data:, and nothing a
# browser strips or splits on (spaces, controls, quotes) that could hide another scheme.
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\"'<>`]+", re.IGNORECASE)


def _link(url: str) -> Markup:
    """URL as a link when it is http or https; anything else as escaped text."""
    text = escape(url)
    return Markup(f'<a href="{text}">{text}</a>') if _WEB_URL.fullmatch(url) else text


def _one_line(text: object) -> str:
    """TEXT as one Markdown table cell or list item: a note may hold newlines and pipes."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _findings(found: dict) -> str:
    """A fault's findings as one line: 'database failover 0.1 s; capacity left 1 of 3'."""
    def one(key: str, value: object) -> str:
        seconds = key.endswith("_s") and isinstance(value, (int, float))
        label = (key[:-2] if seconds else key).replace("_", " ")
        return f"{label} {value:g} s" if seconds else f"{label} {value}"

    return "; ".join(one(key, value) for key, value in found.items())


_TEMPLATES.filters.update(pct=_pct, num=_num, slo_value=_value, reading=_reading,
                          people=_people, secs=_secs, link=_link, one_line=_one_line,
                          detection_lines=detection_lines, findings=_findings)


def write_summary(run_dir: Path | str,
                  catalog_path: Path | str | None = None) -> tuple[RunDir, dict]:
    """summary.json alone (what the history records), and the run read for it."""
    run = RunDir.read(run_dir)
    catalog = Path(catalog_path or Path(run_dir) / CATALOG_COPY)
    if not catalog.is_file():
        raise UserError("the run directory holds no copy of its SLO catalog (runs made "
                        "before runs kept one)", file=catalog,
                        fix="Name the catalog the run used with --slos")
    summary = summarize(run, load_catalog(catalog))
    out = Path(run_dir)
    summary["comparison"] = read_comparison(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return run, summary


def render(run_dir: Path | str, catalog_path: Path | str | None = None) -> dict:
    """Render every report file into RUN_DIR from its contents alone (the catalog the run
    used is in it; CATALOG_PATH overrides, for runs made before it was); the summary."""
    run, summary = write_summary(run_dir, catalog_path)
    out = Path(run_dir)
    svgs = {name: Markup(svg) for name, svg in charts(run).items()}  # our own SVG
    (out / "index.html").write_text(
        _TEMPLATES.get_template("index.html.j2").render(s=summary, charts=svgs))
    (out / "summary.md").write_text(
        _TEMPLATES.get_template("summary.md.j2").render(s=summary))
    timeline = [{**event, "time": datetime.fromtimestamp(event["t"], timezone.utc)
                 .strftime("%Y-%m-%d %H:%M:%S")} for event in run.timeline]
    (out / "postmortem.md").write_text(
        _TEMPLATES.get_template("postmortem.md.j2").render(s=summary, timeline=timeline))
    _junit(summary, out / "junit.xml")
    return summary


def _junit(summary: dict, path: Path) -> None:
    """One test case per experiment (held or not), per SLO (met over the run or not), per
    experiment's detection (a failure when undetected or unknown; one more when the
    monitoring could not be read), and one for the rollbacks (none pending)."""
    suite = ET.Element("testsuite", name=f"game day {summary['name']}")
    failures = 0
    for experiment in summary["experiments"]:
        case = ET.SubElement(suite, "testcase", classname="experiments",
                             name=experiment["name"])
        if experiment["verdict"] != "held":
            failures += 1
            ET.SubElement(case, "failure", message=f"verdict: {experiment['verdict']}")
    for slo in summary["slos"]:
        case = ET.SubElement(suite, "testcase", classname="slos", name=slo["name"])
        if not slo["met"]:
            failures += 1
            ET.SubElement(case, "failure", message=f"{slo['title']}: {_value(slo)}")
    if summary.get("detection_error"):  # not judged is no pass, as an SLO without data
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="detection", name="monitoring")
        ET.SubElement(case, "failure", message=detection_lines(summary)[0])
    for row in summary.get("detection", []):
        case = ET.SubElement(suite, "testcase", classname="detection", name=row["experiment"])
        if row["status"] == "undetected":
            failures += 1
            ET.SubElement(case, "failure", message="undetected: learners were hurt and no "
                                                   "alert fired")
        elif row["status"].startswith("unknown"):
            failures += 1
            ET.SubElement(case, "failure", message=row["status"])
    for regression in (summary.get("comparison") or {}).get("regressions", []):
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="history",
                             name=f"{regression['kind']}: {regression['step']}")
        ET.SubElement(case, "failure", message=f"regression: {regression['text']}")
    case = ET.SubElement(suite, "testcase", classname="recovery", name="rollbacks")
    if summary["pending_rollbacks"]:
        failures += 1
        ET.SubElement(case, "failure", message=(
            f"rollbacks still pending: {', '.join(summary['pending_rollbacks'])}; run "
            f"{summary['recover_command'] or 'edx-gameday recover --env <inventory>'}"))
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
