"""What a game day found: verdicts, SLOs before/during/after each fault, time to detect
and recover, budget burned, and per-route figures, as plain JSON-ready data."""

from pathlib import Path

from chaoslib_edx.load.recorder import ROUTE_CLASSES, percentiles
from chaoslib_edx.report.rundir import RunDir
from chaoslib_edx.slo.catalog import Catalog, Slo
from chaoslib_edx.slo.evaluator import evaluate

ROLLING_S = 5  # the SLO window used to find the first breach and the recovery


def verdict(journal: dict | None) -> str:
    """One word for an experiment's journal: held, deviated, not started, interrupted..."""
    if journal is None:
        return "not run"
    before = (journal.get("steady_states") or {}).get("before")
    if before is not None and not before.get("steady_state_met"):
        return "steady state not met before the fault"  # chaoslib calls this "completed"
    if journal.get("deviated"):
        return "deviated"
    return {"completed": "held"}.get(journal.get("status"), journal.get("status", "unknown"))


def _detect(slo: Slo, run: RunDir, start: int, end: int) -> int | None:
    for second in range(start, end):
        result = evaluate(slo, run.series, second - ROLLING_S + 1, second + 1)
        if result.total and not result.met:
            return second - start
    return None


def _recover(slo: Slo, run: RunDir, end: int, last: int) -> int | None:
    for second in range(end, last - ROLLING_S + 2):
        if evaluate(slo, run.series, second, second + ROLLING_S).met:
            return second - end
    return None


def summarize(run: RunDir, catalog: Catalog) -> dict:
    first, last = run.series.first or 0, run.series.last or 0
    slos = [catalog.get(n) for n in run.run.get("slos", [s.name for s in catalog.slos])]
    experiments = []
    windows = {w.experiment: w for w in run.fault_windows()}
    planned = [Path(step["experiment"]).stem for step in run.run.get("timeline", [])]
    for name in planned + [n for n in windows if n not in planned]:
        window = windows.get(name)
        if window is None:  # never reached its fault (or never ran)
            experiments.append({"name": name, "verdict": verdict(run.journals.get(name)),
                                "fault_start": None, "fault_end": None, "slos": {}})
            continue
        start = int(window.start)
        end = int(window.end) if window.end is not None else last + 1
        span = max(end - start, ROLLING_S)
        rows = {}
        for slo in slos:
            before = evaluate(slo, run.series, start - span, start)
            during = evaluate(slo, run.series, start, end)
            after = evaluate(slo, run.series, end, end + span)
            detect = _detect(slo, run, start, end)
            rows[slo.name] = {"type": slo.indicator.type,
                              "before": before.value, "during": during.value,
                              "after": after.value, "met_during": during.met,
                              "burn_rate_during": during.burn_rate,
                              "time_to_detect_s": detect,
                              "time_to_recover_s": _recover(slo, run, end, last)
                              if detect is not None else None}
        experiments.append({"name": window.experiment,
                            "verdict": verdict(run.journals.get(window.experiment)),
                            "fault_start": window.start, "fault_end": window.end,
                            "slos": rows})
    overall = []
    for slo in slos:
        result = evaluate(slo, run.series, first, last + 1)
        overall.append({"name": slo.name, "title": slo.title, "objective": slo.objective,
                        "type": slo.indicator.type,
                        "threshold_ms": slo.indicator.threshold_ms,
                        "value": result.value, "met": result.met, "good": result.good,
                        "total": result.total, "burn_rate": result.burn_rate,
                        "budget_burned": result.budget_consumed,
                        "budget_period_days": slo.budget_period_days})
    routes = []
    for cls in ROUTE_CLASSES:
        stats = run.series.window(first, last + 1, (cls,))
        if stats.count:
            p = {q: v / 1000 for q, v in percentiles(stats.hist, (50, 95, 99)).items()}
            routes.append({"class": cls, "requests": stats.count, "failures": stats.failures,
                           "server_errors": stats.server_errors, "p50_ms": p[50],
                           "p95_ms": p[95], "p99_ms": p[99]})
    info = run.run
    return {"name": info.get("name", run.path.name), "description": info.get("description", ""),
            "environment": info.get("environment", ""), "status": info.get("status", "crashed"),
            "abort_reason": info.get("abort_reason"), "started": info.get("started"),
            "ended": info.get("ended"), "duration_s": last - first + 1 if run.series.seconds else 0,
            "roles": info.get("roles", {}), "versions": info.get("versions", {}),
            "experiments": experiments, "slos": overall, "routes": routes}
