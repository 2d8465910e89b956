"""A run against the median of its series' last runs: the regressions a CI gate acts on.

Comparable runs are the same series (name, environment and experiment or sweep list) that
started before this one. A regression is: a fault detected in the last comparable run and
undetected now; time to detect up by more than `detect_s_up` seconds over the median; an
SLO's budget burned over the run up by more than `budget_up` times the median (0.5: half
as much again); a sweep's knee down by more than `knee_down` of the median (0.2: 20%).
Fewer than one comparable run: nothing to compare with, said so, never "no regression";
a value missing now (detection unknown, no data, no knee found) that earlier runs had is
listed as not compared, never taken as no regression.
"""

from statistics import median

from pydantic import Field

from chaoslib_edx.model import Model


class Baseline(Model):
    """A game day's or capacity plan's `baseline`: what a regression is."""

    runs: int = Field(5, ge=1, le=100, description="the last runs of the series to compare with")
    detect_s_up: float = Field(60, ge=0, description="time to detect up by more than this (s)")
    budget_up: float = Field(0.5, ge=0, description="budget burned up by more than this share")
    knee_down: float = Field(0.2, ge=0, lt=1, description="knee down by more than this share")


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return median(known) if known else None


def compare(record: dict, earlier: list[dict], baseline: Baseline) -> dict:
    """RECORD against EARLIER (its series' runs before it, oldest first): the regressions
    and what was compared."""
    before = earlier[-baseline.runs:]
    if not before:
        return {"compared_with": [], "regressions": [],
                "note": "no earlier run of this series (same name, environment and "
                        "timeline): nothing to compare with"}
    found: list[dict] = []
    unknown: list[str] = []
    for experiment in record["experiments"]:
        name = experiment["experiment"]
        past = [e for run in before for e in run["experiments"] if e["experiment"] == name]
        last = past[-1] if past else None
        if str(experiment["detection"] or "").startswith("unknown") and last is not None:
            unknown.append(f"{name}: its detection is {experiment['detection']}")
        if last is not None and last["detection"] == "detected" and \
                experiment["detection"] == "undetected":
            found.append({"kind": "newly undetected", "step": name,
                          "text": f"{name}: detected in the last run, undetected now"})
        typical = _median([e["detect_s"] for e in past])
        if typical is not None and experiment["detect_s"] is not None and \
                experiment["detect_s"] - typical > baseline.detect_s_up:
            found.append({"kind": "slower detection", "step": name, "now": experiment["detect_s"],
                          "median": typical,
                          "text": f"{name}: detected after {experiment['detect_s']:.0f} s, "
                                  f"median {typical:.0f} s (more than {baseline.detect_s_up:g} "
                                  "s slower)"})
    for slo in record["slos"]:
        typical = _median([s["budget_burned"] for run in before for s in run["slos"]
                           if s["slo"] == slo["slo"]])
        now = slo["budget_burned"]
        if typical is not None and now is None:
            unknown.append(f"{slo['slo']}: no requests, so no budget burned to compare")
        if typical is not None and now is not None and \
                now > typical * (1 + baseline.budget_up) and now > 0:
            found.append({"kind": "more budget burned", "step": slo["slo"], "now": now,
                          "median": typical,
                          "text": f"{slo['slo']}: {now * 100:.3f}% of its budget burned, "
                                  f"median {typical * 100:.3f}%"})
    for sweep in record["sweeps"]:
        typical = _median([s["knee_rate"] for run in before for s in run["sweeps"]
                           if s["sweep"] == sweep["sweep"]])
        now = sweep["knee_rate"]
        if typical and (now is None or now < typical * (1 - baseline.knee_down)):
            found.append({"kind": "lower knee", "step": sweep["sweep"], "now": now,
                          "median": typical,
                          "text": f"{sweep['sweep']}: knee {now if now is not None else 'none'}"
                                  f"{'/s' if now is not None else ''}, median {typical:g}/s "
                                  f"(more than {baseline.knee_down:.0%} lower)"})
    return {"compared_with": [run["run_key"] for run in before], "regressions": found,
            "not_compared": unknown, "note": None}
