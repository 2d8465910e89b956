"""What a game day writes and answers: its run directory, chaoslib's log and JUnit file
(checked before it starts), what it records about itself and what monitoring saw, and at
its end the exit code and the lines the command line prints."""

import json
import logging
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from chaoslib.types import Configuration

from chaoslib_edx.context import Settings
from chaoslib_edx.detection.source import SNAPSHOT, snapshot
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import output_dir, output_file, replace_text
from chaoslib_edx.gameday.schema import Loaded
from chaoslib_edx.lease import Run
from chaoslib_edx.load.workers import describe
from chaoslib_edx.platforms import Platform
from chaoslib_edx.report.detection import detection_lines
from chaoslib_edx.report.rundir import CATALOG_COPY, RunDir

EXIT_OK, EXIT_FAILED, EXIT_ABORTED = 0, 1, 3
VERSIONED = ("chaostoolkit-edx", "chaostoolkit-lib", "chaostoolkit-aws",
             "chaostoolkit-kubernetes", "locust")


@dataclass
class Outcome:
    code: int
    run_dir: Path
    status: str
    abort_reason: str | None = None
    summary: dict = field(default_factory=dict)

    @classmethod
    def of(cls, run_dir: Path, status: str, abort_reason: str | None,
           summary: dict) -> "Outcome":
        """The exit code of a run that ended with STATUS and its report's SUMMARY."""
        if status == "failed":
            code = EXIT_FAILED
        elif status == "aborted":
            code = EXIT_ABORTED
        elif any(e["verdict"] != "held" for e in summary["experiments"]) \
                or not all(s["met"] for s in summary["slos"]) or undetected(summary) \
                or unknown_detection(summary):
            code = EXIT_FAILED
        else:
            code = EXIT_OK
        return cls(code, run_dir, status, abort_reason, summary)

    def lines(self) -> list[str]:
        """What the command line prints when the game day is over."""
        experiments, slos = self.summary["experiments"], self.summary["slos"]
        held = [e["name"] for e in experiments if e["verdict"] == "held"]
        missed = [s["name"] for s in slos if s["met"] is False]
        blind = [s["name"] for s in slos if s["met"] is None]
        met = len(slos) - len(missed) - len(blind)
        lines = [f"game day {self.status}: {len(held)} of {len(experiments)} experiments held"
                 + "".join(f"; {e['name']}: {e['verdict']}" for e in experiments
                           if e["verdict"] != "held"),
                 f"SLOs over the run: {met} of {len(slos)} met"
                 + (f"; missed: {', '.join(missed)}" if missed else "")
                 + (f"; no data (no requests): {', '.join(blind)}" if blind else "")]
        lines += [f"detection: {line}" for line in detection_lines(self.summary)]
        if missed_alerts := undetected(self.summary):
            lines.append(f"UNDETECTED: {', '.join(missed_alerts)} hurt learners and no "
                         "alert fired")
        for regression in (self.summary.get("comparison") or {}).get("regressions", []):
            lines.append(f"REGRESSION: {regression['text']}")
        if self.abort_reason:
            lines.append(f"{'ABORTED' if self.code == EXIT_ABORTED else 'FAILED'}: "
                         f"{self.abort_reason}")
        if self.summary.get("pending_rollbacks"):
            lines.append(f"ROLLBACKS STILL PENDING: {', '.join(self.summary['pending_rollbacks'])}"
                         f"; run: {self.summary['recover_command']}")
        lines.append(f"report: {self.run_dir / 'index.html'}")
        return lines


def undetected(summary: dict) -> list[str]:
    """Experiments whose fault hurt learners while no alert fired: the headline finding."""
    return [row["experiment"] for row in summary.get("detection", [])
            if row["status"] == "undetected"]


def unknown_detection(summary: dict) -> bool:
    """Whether some detection could not be judged: monitoring blind, or unreadable. Not
    judged is no pass, as an SLO without data is none."""
    return bool(summary.get("detection_error")) or any(
        row["status"].startswith("unknown") for row in summary.get("detection", []))


def junit_destination(path: str) -> Path:
    """Where --junit will write, checked before the game day: its directory exists, and it
    replaces no file but an earlier game day's JUnit report."""
    import xml.etree.ElementTree as ET

    target = output_file(path, "--junit")
    if target.exists():
        try:
            root = ET.parse(target).getroot()
        except (ET.ParseError, OSError, UnicodeError):
            root = None
        if root is None or root.tag != "testsuite" \
                or not str(root.get("name", "")).startswith("game day "):
            raise UserError("exists and is not a game day's JUnit report: the run would "
                            "overwrite it", file=target, field="--junit",
                            fix="Remove it or pick another path")
    return target


def run_directory(gameday: Path | str, out: Path | str | None) -> Path:
    """OUT, else reports/<game day>-<UTC time>; refused when it holds files already."""
    name = "".join(c if c.isalnum() else "-" for c in Path(gameday).stem.lower())
    run_dir = output_dir(
        out or f"reports/{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}", "--out")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError("the run directory exists and is not empty", file=run_dir,
                        fix="Pick another --out (runs never overwrite one another)")
    return run_dir


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def configure_logging(run_dir: Path) -> logging.Handler:
    """chaoslib's log goes to the run directory, not the terminal (progress is there)."""
    logger = logging.getLogger("chaostoolkit")
    handler = logging.FileHandler(run_dir / "chaostoolkit.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def run_info(gameday: Loaded, config: Configuration, run: Run) -> dict:
    """What run.json says of a game day from its start: what ran, where, under which
    grant of the environment's lease, with which versions."""
    spec, env = gameday.spec, gameday.environment
    return {"name": spec.name, "description": spec.description,
            "gameday": str(gameday.path), "status": "running",
            "environment": f"{env.name} (kind {env.kind}, driver {env.driver})",
            "env_file": str(Path(gameday.env_file).absolute()), "pid": os.getpid(),
            "run_id": run.id, "lease_token": run.token, "lease": run.lease.where,
            "ledger_file": Settings.of(config).ledger,
            "started": utc_now(), "roles": spec.roles.model_dump(), "slos": spec.slos,
            "slo_catalog": {"source": spec.slo_catalog, "copy": CATALOG_COPY},
            "timeline": [s.model_dump() for s in spec.timeline],
            "workers": describe(spec.load.workers),
            "detection": spec.detection.model_dump(),
            "versions": {"python": platform.python_version(),
                         **{name: version(name) for name in VERSIONED}}}


def keep_detection(target: Platform, run_dir: Path, gameday: Loaded) -> None:
    """Keep what the platform's monitoring and pager saw (detection.json): the report
    attributes alerts and pages to faults from it, long after Prometheus forgot."""
    name = "monitoring"  # until the platform says which
    try:  # the clean-up goes on whatever happens here
        source = target.detection()
        if source is None:
            return
        name = source.name
        run = RunDir.read(run_dir)
        slos = [gameday.catalog.get(slo) for slo in gameday.spec.slos]
        data = snapshot(source, run.observed(), slos,
                        min((e["t"] for e in run.timeline), default=time.time()), time.time())
    except Exception as exc:  # the report says detection could not be read, and why
        data = {"source": name, "error": f"{type(exc).__name__}: {exc}"[:500]}
    replace_text(run_dir / SNAPSHOT, json.dumps(data, indent=2) + "\n")
