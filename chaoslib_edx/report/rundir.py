"""Read a run directory: what ran, when faults were live, the metrics, the journals."""

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from chaoslib_edx.detection.attribution import Observed
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import replace_text
from chaoslib_edx.load.series import Series

logger = logging.getLogger("chaostoolkit")
CATALOG_COPY = "slos.yaml"  # the SLO catalog a run used, kept in its run directory


@dataclass
class FaultWindow:
    experiment: str
    start: float
    end: float | None  # None: the run ended (or crashed) with the fault live


@dataclass
class RunDir:
    path: Path
    run: dict
    series: Series
    timeline: list[dict]
    journals: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path | str) -> "RunDir":
        path = Path(path)
        try:
            run = json.loads((path / "run.json").read_text())
        except FileNotFoundError:
            raise UserError("not a run directory (no run.json)", file=path) from None
        except ValueError as exc:
            raise UserError(f"run.json is not valid JSON ({exc})", file=path / "run.json") from None
        timeline = []
        if (path / "timeline.jsonl").exists():
            lines = (path / "timeline.jsonl").read_text(errors="replace").splitlines()
            for number, raw in enumerate(lines, 1):
                try:
                    event = json.loads(raw)
                    if isinstance(event, dict) and isinstance(event.get("event"), str) \
                            and isinstance(event.get("t"), (int, float)):
                        timeline.append(event)
                        continue
                except ValueError:
                    pass  # a crash can cut the last line; a damaged one is skipped alike
                logger.warning(f"{path / 'timeline.jsonl'}:{number}: skipping a line that is "
                               f"not a timeline event ({raw[:60]!r})")
        journals = {}
        for journal in sorted((path / "journals").glob("*.json")):
            try:
                journals[journal.stem] = json.loads(journal.read_text(errors="replace"))
            except ValueError as exc:
                logger.warning(f"{journal}: skipping a journal that is not JSON ({exc})")
        series = Series(path / "metrics.jsonl").refresh()
        _bound(series, run, timeline)
        return cls(path, run, series, timeline, journals)

    def fault_windows(self) -> list[FaultWindow]:
        windows: dict[str, FaultWindow] = {}
        for event in self.timeline:
            name = event.get("experiment", "")
            if event["event"] == "fault_start":
                windows[name] = FaultWindow(name, event["t"], None)
            elif event["event"] == "fault_end" and name in windows:
                windows[name].end = event["t"]
        return list(windows.values())

    @property
    def last_t(self) -> float:
        """When the run ended: its last event (or now, for a run still going)."""
        return max((e["t"] for e in self.timeline), default=time.time())

    def observed(self) -> list[Observed]:
        """Each fault from going live to the end of its observation: its experiment's end
        plus the step's observe_s, but never past the next fault or the run's end."""
        observe = {Path(step["experiment"]).stem: step.get("observe_s", 0)
                   for step in self.run.get("timeline", [])}
        ends = {e["experiment"]: e["t"] for e in self.timeline if e["event"] == "experiment_end"}
        windows = sorted(self.fault_windows(), key=lambda w: w.start)
        last, spans = self.last_t, []
        for index, window in enumerate(windows):
            until = ends.get(window.experiment, last) + observe.get(window.experiment, 0)
            if index + 1 < len(windows):
                until = min(until, windows[index + 1].start)
            spans.append(Observed(window.experiment, window.start, min(until, last)))
        return spans


SPAN_SLACK_S = 120  # metrics may start before the run's first event and end after its last


def _bound(series: Series, run: dict, timeline: list[dict]) -> None:
    """Drop metrics seconds outside the run's own span (from its start to its end or last
    event): a damaged `t` years away would make every window and chart walk the gap."""
    def epoch(text: object) -> float | None:
        try:
            return datetime.fromisoformat(str(text)).timestamp()
        except ValueError:
            return None

    times = [e["t"] for e in timeline]
    start = epoch(run.get("started")) or (min(times) if times else None)
    end = epoch(run.get("ended")) or (max(times) if times else None) or time.time()
    if start is None:
        start = end - 7 * 86400
    outside = [t for t in series.seconds
               if not start - SPAN_SLACK_S <= t <= max(end, start) + SPAN_SLACK_S]
    for t in outside:
        del series.seconds[t]
    if outside:
        logger.warning(f"{series.path}: {len(outside)} seconds of metrics lie outside the "
                       f"run's span and were left out (e.g. t={outside[0]})")


COMPARISON = "comparison.json"  # the run against its series' last runs (the history's)


def read_comparison(run_dir: Path) -> dict | None:
    """The run against its series' last runs, as the history left it (None: never
    compared, as runs made before the history; a damaged file says so)."""
    path = Path(run_dir) / COMPARISON
    if not path.exists():
        return None
    try:
        found = json.loads(path.read_text())
    except ValueError as exc:
        found = f"({exc})"
    if isinstance(found, dict) and isinstance(found.get("regressions"), list):
        return found
    return {"compared_with": [], "regressions": [], "findings": [],
            "note": f"{COMPARISON} is damaged {found if isinstance(found, str) else ''}".strip()}


class RunWriter:
    """Write a run directory as the run goes: a crash loses at most the line being written."""

    def __init__(self, path: Path | str, run: dict) -> None:
        self.path = Path(path)
        (self.path / "journals").mkdir(parents=True, exist_ok=True)
        self.run = dict(run)
        # Called with each event once it is on disk (the live console follows the run so).
        self.listeners: list[Callable[[dict], None]] = []
        self.update()

    def update(self, **fields: object) -> None:
        """Merge FIELDS into run.json, replaced atomically."""
        self.run.update(fields)
        replace_text(self.path / "run.json", json.dumps(self.run, indent=2, default=str) + "\n")

    def event(self, event: str, **fields: object) -> dict:
        """Append a timeline event, stamped now, and fsync it."""
        line = {"t": time.time(), "event": event, **fields}
        with (self.path / "timeline.jsonl").open("a") as handle:
            handle.write(json.dumps(line, default=str) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        for listener in self.listeners:
            try:
                listener(line)
            except Exception as exc:  # a viewer's trouble never stops the run's record
                logger.error(f"a follower of the timeline failed: {type(exc).__name__}: {exc}")
        return line

    def journal(self, name: str, journal: dict) -> None:
        (self.path / "journals" / f"{name}.json").write_text(
            json.dumps(journal, indent=2, default=str) + "\n")
