"""The load's workers over a run, from its timeline: every join after the start and every
loss, and the request rate actually sent between them (a worker lost mid-run lowers the
load the SLOs were judged under; the report says when and by how much); the workers
refused (not the run's locustfile or settings) and those whose reports were malformed."""

from chaoslib_edx.report.rundir import RunDir

EVENTS = ("worker_joined", "worker_left", "worker_refused", "worker_malformed")
START_S = 2  # the master starts the load once its workers joined: joins this close count


def generators(run: RunDir) -> dict | None:
    """{"workers": the run's setting, "events": [...], "segments": [...]}, or None for a
    run of one Locust process (no workers to follow)."""
    events = sorted((e for e in run.timeline if e["event"] in EVENTS), key=lambda e: e["t"])
    if not events or run.series.first is None:
        return None
    # Only joins and losses change the workers sending load; the rest are counted apart.
    changes = [e for e in events if e["event"] in ("worker_joined", "worker_left")]
    first, end = run.series.first, run.series.last + 1
    start = 0  # the joins of the load's start: before its first seconds of metrics
    while start < len(changes) and changes[start]["event"] == "worker_joined" \
            and changes[start]["t"] < first + START_S:
        start += 1
    before, during = changes[:start], changes[start:]
    bounds = [first, *(int(e["t"]) for e in during), end]
    counts = [before[-1]["workers"] if before else 0, *(e["workers"] for e in during)]
    segments = []
    for (begin, stop), workers in zip(zip(bounds, bounds[1:]), counts):
        if stop > begin:
            sent = run.series.window(begin, stop).count
            segments.append({"from_s": begin - first, "to_s": stop - first, "workers": workers,
                             "requests_per_s": sent / (stop - begin)})
    return {"workers": run.run.get("workers", ""), "joined": counts[0],
            "events": [{"at_s": round(e["t"] - first, 1),
                        "event": e["event"].removeprefix("worker_"),
                        "worker": e.get("worker", "?"), "reason": e.get("reason"),
                        "workers": e.get("workers")} for e in during],
            "refused": [{"worker": e.get("worker", "?"), "reason": e.get("reason")}
                        for e in events if e["event"] == "worker_refused"],
            "malformed": {e.get("worker", "?"): {"reports": e.get("reports"),
                                                 "malformed": e.get("malformed")}
                          for e in events if e["event"] == "worker_malformed"},
            "segments": segments}
