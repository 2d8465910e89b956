"""Findings: what a run showed wrong, with an identity that outlives the run (environment,
game day or plan, step, kind), so its life can be followed across runs: "new" the first
time, "still open" while later runs show it, "fixed" at the first run that ran its step
and no longer shows it (a run that did not run the step leaves it as it was).

Kinds: an undetected fault, a hypothesis that deviated, a views gap (learners and the
servers' monitoring disagreed on an SLO while the fault was live), an SLO missed over the
run, a sweep whose knee is below the plan's headroom target.
"""

from dataclasses import asdict, dataclass
from datetime import datetime


@dataclass(frozen=True)
class Finding:
    environment: str
    name: str
    step: str
    kind: str

    @property
    def key(self) -> str:
        return "|".join((self.environment, self.name, self.step, self.kind))


def _text(finding: Finding) -> str:
    return {"undetected": f"{finding.step}: learners were hurt and no alert fired",
            "deviated": f"{finding.step}: its steady-state hypothesis did not hold",
            "views gap": f"{finding.step}: learners and the servers' monitoring disagreed "
                         "while its fault was live",
            "slo missed": f"{finding.step}: missed its objective over the run",
            "knee below headroom": f"{finding.step}: its knee is below the headroom target"
            }[finding.kind]


def findings_of(record: dict) -> list[Finding]:
    """What RECORD (a history record) shows wrong."""
    found = []
    for experiment in record["experiments"]:
        step = experiment["experiment"]
        if experiment["detection"] == "undetected":
            found.append(("undetected", step))
        if experiment["verdict"].startswith("deviated"):
            found.append(("deviated", step))
        if any(slo.get("views_disagree") for slo in experiment["slos_during"].values()):
            found.append(("views gap", step))
    found += [("slo missed", slo["slo"]) for slo in record["slos"] if slo["met"] is False]
    found += [("knee below headroom", sweep["sweep"]) for sweep in record["sweeps"]
              if sweep.get("headroom_holds") is False]
    return [Finding(record["environment"], record["name"], step, kind) for kind, step in found]


def _steps(record: dict) -> set[str]:
    """The steps RECORD ran: only these can show a finding fixed."""
    return {e["experiment"] for e in record["experiments"]} | \
        {s["slo"] for s in record["slos"]} | {s["sweep"] for s in record["sweeps"]}


def _days(since: str | None, until: str | None) -> float | None:
    try:
        return round((datetime.fromisoformat(str(until)) - datetime.fromisoformat(str(since)))
                     .total_seconds() / 86400, 1)
    except ValueError:
        return None


def lifecycle(runs: list[dict]) -> list[dict]:
    """Each finding of RUNS (one game day's or plan's runs in one environment, oldest
    first) as of the last of them: status, the run that opened it (and fixed it), how
    many runs showed it, its age in days at the last run."""
    state: dict[str, dict] = {}
    for run in runs:
        present = {f.key: f for f in findings_of(run)}
        for key, finding in present.items():
            known = state.get(key)
            if known is None or known["status"] == "fixed":
                state[key] = {**asdict(finding), "key": key, "text": _text(finding),
                              "status": "new", "opened_run": run["run_key"],
                              "opened": run["started"], "fixed_run": None, "seen": 1}
            else:
                known["status"], known["seen"] = "still open", known["seen"] + 1
        ran = _steps(run)
        for key, known in state.items():
            if key not in present and known["status"] != "fixed" and known["step"] in ran:
                known["status"], known["fixed_run"] = "fixed", run["run_key"]
    last = runs[-1]["started"] if runs else None
    for known in state.values():
        known["age_days"] = _days(known["opened"], last)
    return sorted(state.values(), key=lambda f: (f["opened"] or "", f["key"]))
