"""What a game day found: verdicts, SLOs before/during/after each fault (as learners and as
the servers saw them), time to detect and recover, the alerts, pages and acknowledgements
each fault set off, budget burned, and per-route figures, as plain JSON-ready data."""

import json
from pathlib import Path

import psutil

from chaoslib_edx.context import environment_context
from chaoslib_edx.detection.attribution import Firing, Page, attribute
from chaoslib_edx.detection.source import SNAPSHOT
from chaoslib_edx.ledger import open_ledger, recover_command
from chaoslib_edx.liveness import ended_early
from chaoslib_edx.load.recorder import ROUTE_CLASSES, percentiles
from chaoslib_edx.report.generators import generators
from chaoslib_edx.report.observations import observations
from chaoslib_edx.report.rundir import RunDir
from chaoslib_edx.slo.catalog import Catalog, Slo
from chaoslib_edx.slo.evaluator import evaluate

ROLLING_S = 5  # the SLO window used to find the first breach and the recovery
NO_REQUESTS = "no data: no requests in the window"  # never "met", never "missed"


def verdict(journal: dict | None) -> str:
    """One word for an experiment's journal: held, deviated, not started, interrupted, or
    inconclusive when its fault ended before its rollback (the steady state it saw after
    was not the fault's doing)."""
    if journal is None:
        return "not run"
    before = (journal.get("steady_states") or {}).get("before")
    if before is not None and not before.get("steady_state_met"):
        return "steady state not met before the fault"  # chaoslib calls this "completed"
    ended = ended_early(fault_lives(journal))
    if ended is not None:
        return f"inconclusive (fault ended at +{ended['ended_after_s']:g}s)"
    if journal.get("deviated"):
        return "deviated"
    return {"completed": "held"}.get(journal.get("status"), journal.get("status", "unknown"))


def findings(journal: dict | None) -> dict:
    """What the experiment's faults reported of themselves (an activity output's
    `findings`: a zone outage's failover times, the load balancer's view of it), in the
    order they ran; an empty one (a rollback with nothing left to do) adds nothing."""
    found: dict = {}
    for record in (journal or {}).get("run", []) + ((journal or {}).get("rollbacks") or []):
        output = record.get("output")
        if isinstance(output, dict) and isinstance(output.get("findings"), dict):
            found.update(output["findings"])
    return found


def fault_lives(journal: dict) -> list[dict]:
    """How each fault of the experiment lived, as the safety control wrote it."""
    return [life for extension in journal.get("extensions") or []
            if extension.get("name") == "chaostoolkit-edx"
            for life in extension.get("faults") or []]


def _detect(slo: Slo, run: RunDir, start: int, end: int) -> int | None:
    """The first second of the fault whose rolling window breached SLO. The windows start
    at the fault's start: a breach the previous fault left is not this one's impact."""
    for second in range(start, end):
        result = evaluate(slo, run.series, max(start, second - ROLLING_S + 1), second + 1)
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
        journal = run.journals.get(name)
        if window is None:  # never reached its fault (or never ran)
            experiments.append({"name": name, "verdict": verdict(run.journals.get(name)),
                                "fault_start": None, "fault_end": None, "slos": {},
                                "findings": findings(journal)})
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
                              "good_share_during": during.good / during.total
                              if during.total else None,
                              "after": after.value,
                              "met_during": during.met if during.total else None,
                              "burn_rate_during": during.burn_rate,
                              "time_to_detect_s": detect,
                              "time_to_recover_s": _recover(slo, run, end, last)
                              if detect is not None else None}
        experiments.append({"name": window.experiment,
                            "verdict": verdict(journal) if journal is not None else
                            "interrupted mid-fault (the runner died: no journal)",
                            "fault_start": window.start, "fault_end": window.end,
                            "slos": rows, "findings": findings(journal)})
    detection = _detection(run, catalog, experiments)
    overall = []
    for slo in slos:
        result = evaluate(slo, run.series, first, last + 1)
        overall.append({"name": slo.name, "title": slo.title, "objective": slo.objective,
                        "type": slo.indicator.type, "measured": slo.measured,
                        "threshold_ms": slo.indicator.threshold_ms,
                        "value": result.value, "met": result.met if result.total else None,
                        "no_data": None if result.total else NO_REQUESTS, "good": result.good,
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
    status = info.get("status", "crashed")
    pid = info.get("pid")  # runs from before pids were kept cannot be told crashed
    if status == "running" and isinstance(pid, int) and not psutil.pid_exists(pid):
        status = "crashed"  # SIGKILLed or lost: it never wrote its end
    pending = _pending(info, status)
    return {"name": info.get("name", run.path.name), "description": info.get("description", ""),
            "environment": info.get("environment", ""), "status": status,
            "run_id": info.get("run_id"), "lease_token": info.get("lease_token"),
            "pending_rollbacks": pending,
            "watcher_failures": info.get("watcher_failures", 0),
            "watcher_errors": info.get("watcher_errors", []),
            "recover_command": recover_command(info["env_file"], info.get("ledger_file"))
            if pending and info.get("env_file") else None,
            "abort_reason": info.get("abort_reason"), "started": info.get("started"),
            "ended": info.get("ended"), "duration_s": last - first + 1 if run.series.seconds else 0,
            "roles": info.get("roles", {}), "versions": info.get("versions", {}),
            "budget_gate": info.get("budget_gate"),
            "experiments": experiments, "slos": overall, "routes": routes,
            **observations(run),
            "generators": generators(run),
            "detection": detection.get("rows", []),
            "detection_source": detection.get("source"),
            "detection_error": detection.get("error"),
            "pages_skipped": detection.get("pages_skipped", 0)}


def _detection(run: RunDir, catalog: Catalog, experiments: list[dict]) -> dict:
    """Alerts, pages and acknowledgements per experiment from the run's detection.json,
    and the servers' view of each SLO next to the learners' (empty: no monitoring)."""
    path = run.path / SNAPSHOT
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        firings = [Firing(**f) for f in data.get("firings", [])]
        pages = [Page(**p) for p in data.get("pages", [])]
    except (ValueError, TypeError) as exc:
        return {"source": "detection.json", "error": f"{SNAPSHOT} is damaged ({exc})"}
    source = data.get("source") or "monitoring"
    if data.get("error"):
        return {"source": source, "error": data["error"]}
    targets = run.run.get("detection", {})
    mtta = targets.get("mtta_s", 900)
    blind = data.get("blind", {})
    servers = data.get("server_slos", {})
    counted = {e["name"]: _counted(e, run.journals.get(e["name"]), servers.get(e["name"], {}),
                                   catalog, run) for e in experiments}
    found = {row.experiment: row for row in attribute(
        run.observed(), firings, pages, run.last_t, targets.get("auto_ack_after_s"), counted)}
    rows = []
    for experiment in experiments:
        spots = [(a - experiment["fault_start"], b - experiment["fault_start"])
                 for a, b in blind.get(experiment["name"], [])] \
            if experiment["fault_start"] is not None else []
        unseen = f"monitoring blind {_spans(spots)} ({source})" if spots else None
        server = servers.get(experiment["name"], {})
        for name, row in experiment["slos"].items():
            row["server_good_share"] = server.get(name)
            row["server_no_data"] = (f"no data: {unseen}" if unseen else
                                     f"no data in the window ({source})") \
                if name in server and server[name] is None else None
            row["views_disagree"] = _disagree(catalog.get(name), row)
        found_row = found.get(experiment["name"])
        if found_row is None:
            continue
        row = found_row.to_dict()
        impact = any(r["time_to_detect_s"] is not None for r in experiment["slos"].values())
        if not impact and all(r["met_during"] is None for r in experiment["slos"].values()):
            unseen = unseen or "no requests while the fault was live"  # no impact unproven
        row["blind"] = [[round(a, 1), round(b, 1)] for a, b in spots]
        row["status"] = "detected" if row["alerts"] else f"unknown: {unseen}" if unseen \
            else "undetected" if impact else "no impact, no alert"
        slo = _catalog_slo(catalog, row["slo"])
        row["mttd_s"] = slo.mttd_s if slo else None
        row["detect_met"] = row["detect_s"] <= slo.mttd_s if slo else None
        row["mtta_s"] = mtta
        row["ack_met"] = (row["ack_s"] - row["page_s"] <= mtta) if row["ack_s"] is not None \
            else (False if row["page_s"] is not None else None)
        rows.append(row)
    return {"source": source, "rows": rows, "pages_skipped": data.get("pages_skipped", 0)}


def _spans(spots: list[tuple[float, float]]) -> str:
    """'from +3 to +15 s', or several joined: when, after the fault went live."""
    return ", ".join(f"from +{a:.0f} to +{b:.0f} s" for a, b in spots)


def _counted(experiment: dict, journal: dict | None, server: dict, catalog: Catalog,
             run: RunDir) -> set[str]:
    """The SLOs whose alerts detect EXPERIMENT's fault: those of the catalog it breached,
    as learners or as the servers saw it (SERVER: good shares), and those its experiment
    file lists under expect_alerts."""
    if experiment["fault_start"] is None:
        return set()
    start = int(experiment["fault_start"])
    end = int(experiment["fault_end"]) if experiment["fault_end"] is not None \
        else (run.series.last or start) + 1
    rows = experiment["slos"]
    breached = {slo.name for slo in catalog.slos
                if (rows[slo.name]["time_to_detect_s"] if slo.name in rows
                    else _detect(slo, run, start, end)) is not None}
    breached |= {name for name, share in server.items()
                 if share is not None and share < catalog.get(name).objective}
    expected = ((journal or {}).get("experiment") or {}).get("expect_alerts") or []
    return breached | {name for name in expected if isinstance(name, str)}


def _catalog_slo(catalog: Catalog, name: str | None) -> Slo | None:
    """The SLO NAME of the catalog; None for none, or an alarm's SLO it does not have."""
    return next((slo for slo in catalog.slos if slo.name == name), None)


def _disagree(slo: Slo, row: dict) -> bool:
    """The learners' view and the servers' disagree on whether the SLO was met while the
    fault was live (CDN misses the LMS never sees, errors no server logged)."""
    server = row.get("server_good_share")
    if server is None or row["good_share_during"] is None or slo.measured != "server":
        return False
    return row["met_during"] != (server >= slo.objective)


def _pending(info: dict, status: str) -> list[str]:
    """Rollbacks a run left pending: what it wrote at its end, or for a run that never
    reached its end (crashed, running) what its environment's ledger holds now."""
    if status not in ("crashed", "running") or not info.get("env_file"):
        return list(info.get("pending_rollbacks") or [])
    try:  # the run's own entries (none of another run's); all of them for an older run
        context = environment_context(info["env_file"], info.get("ledger_file"))
        return [entry.rollback for entry in open_ledger(context.configuration).pending(
            info.get("run_id"))]
    except Exception as exc:  # the report still renders; it says why it cannot tell
        return [f"unknown: the ledger could not be read ({exc})"]
