"""Read a run directory: what ran, when faults were live, the metrics, the journals."""

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from chaoslib_edx.errors import UserError
from chaoslib_edx.files import replace_text
from chaoslib_edx.load.series import Series

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
            for raw in (path / "timeline.jsonl").read_text().splitlines():
                try:
                    timeline.append(json.loads(raw))
                except ValueError:
                    break  # a crash can leave the last line half-written
        journals = {p.stem: json.loads(p.read_text())
                    for p in sorted((path / "journals").glob("*.json"))}
        return cls(path, run, Series(path / "metrics.jsonl").refresh(), timeline, journals)

    def fault_windows(self) -> list[FaultWindow]:
        windows: dict[str, FaultWindow] = {}
        for event in self.timeline:
            name = event.get("experiment", "")
            if event["event"] == "fault_start":
                windows[name] = FaultWindow(name, event["t"], None)
            elif event["event"] == "fault_end" and name in windows:
                windows[name].end = event["t"]
        return list(windows.values())


class RunWriter:
    """Write a run directory as the run goes: a crash loses at most the line being written."""

    def __init__(self, path: Path | str, run: dict) -> None:
        self.path = Path(path)
        (self.path / "journals").mkdir(parents=True, exist_ok=True)
        self.run = dict(run)
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
        return line

    def journal(self, name: str, journal: dict) -> None:
        (self.path / "journals" / f"{name}.json").write_text(
            json.dumps(journal, indent=2, default=str) + "\n")
