"""A run directory as the history's rows: a game day's summary.json and run.json, or a
capacity run's capacity.json and capacity-run.json (the report's own files: a run is
recorded as its report says, re-rendered or not)."""

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from chaoslib_edx.errors import UserError


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read it: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise UserError("not a JSON object", file=path)
    return data


def _iso(value: object) -> str | None:
    """A time as ISO text (capacity runs keep epoch seconds, game days ISO already)."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc).isoformat(timespec="seconds")
    return str(value) if value is not None else None


def _series(kind: str, name: str, environment: str, parts: list[str]) -> str:
    """Which runs compare: the same kind, name, environment and experiment (or sweep) list;
    a changed timeline starts a new series."""
    text = json.dumps([kind, name, environment, parts])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_of(run_dir: Path | str, source: str | None = None) -> dict:
    """The history's record of RUN_DIR (UserError when it is no rendered run). SOURCE:
    where the run lives, when not RUN_DIR itself (an S3 prefix)."""
    run_dir = Path(run_dir)
    source = source or str(run_dir.resolve())
    if (run_dir / "capacity.json").exists():
        return _capacity(run_dir, source)
    if (run_dir / "summary.json").exists():
        return _gameday(run_dir, source)
    raise UserError("not a rendered run directory (no summary.json or capacity.json)",
                    file=run_dir, fix="Render it first: edx-gameday report RUN_DIR")


def _gameday(run_dir: Path, source: str) -> dict:
    summary, run = _read(run_dir / "summary.json"), _read(run_dir / "run.json")
    detection = {row["experiment"]: row for row in summary.get("detection", [])}
    steps = [Path(step["experiment"]).stem for step in run.get("timeline", [])] or \
        [e["name"] for e in summary["experiments"]]
    experiments = []
    for position, experiment in enumerate(summary["experiments"]):
        row = detection.get(experiment["name"], {})
        experiments.append({
            "position": position, "experiment": experiment["name"],
            "verdict": experiment["verdict"], "detection": row.get("status"),
            "detect_s": row.get("detect_s"), "page_s": row.get("page_s"),
            "ack_s": row.get("ack_s"),
            "slos_during": {name: {"value": slo.get("during"), "met": slo.get("met_during"),
                                   "burn_rate": slo.get("burn_rate_during"),
                                   "views_disagree": bool(slo.get("views_disagree"))}
                            for name, slo in experiment.get("slos", {}).items()}})
    # The report says "NAME (kind K, driver D)": the history keeps the name.
    environment = str(summary.get("environment", "")).split(" (")[0]
    return {"run_key": summary.get("run_id") or source, "kind": "gameday",
            "name": summary["name"], "environment": environment,
            "series": _series("gameday", summary["name"], environment, steps),
            "status": summary["status"], "started": summary.get("started"),
            "ended": summary.get("ended"), "platform_version": run.get("platform_version"),
            "source": source, "experiments": experiments,
            "slos": [{"slo": slo["name"], "value": slo.get("value"), "met": slo.get("met"),
                      "budget_burned": slo.get("budget_burned")}
                     for slo in summary.get("slos", [])],
            "sweeps": []}


def _capacity(run_dir: Path, source: str) -> dict:
    capacity = _read(run_dir / "capacity.json")
    run = _read(run_dir / "capacity-run.json") if (run_dir / "capacity-run.json").exists() \
        else {}
    sweeps = [{"sweep": sweep["name"], "knee_rate": sweep.get("knee_rate"),
               "first_break_rate": (sweep.get("first_break") or {}).get("rate"),
               "first_break_slos": (sweep.get("first_break") or {}).get("slos", []),
               "headroom_holds": (sweep.get("headroom") or {}).get("holds")}
              for sweep in capacity.get("sweeps", [])]
    environment = capacity.get("environment", "")
    return {"run_key": run.get("run_id") or source, "kind": "capacity",
            "name": capacity["name"], "environment": environment,
            "series": _series("capacity", capacity["name"], environment,
                              [s["sweep"] for s in sweeps]),
            "status": capacity.get("status", "unknown"), "started": _iso(run.get("started")),
            "ended": _iso(run.get("ended")), "platform_version": run.get("platform_version"),
            "source": source, "experiments": [], "slos": [],
            "sweeps": sweeps}
