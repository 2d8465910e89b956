"""The runs of a history as lines of a table (`edx-gameday history show`)."""


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def _run_line(run: dict) -> str:
    if run["kind"] == "capacity":
        detail = "  ".join(f"{s['sweep']}: knee {s['knee_rate']:g}/s" if s["knee_rate"]
                           is not None else f"{s['sweep']}: no knee" for s in run["sweeps"])
    else:
        detail = "  ".join(
            f"{e['experiment']}: {(e['detection'] or 'no monitoring').split(':')[0]}"
            f" {_secs(e['detect_s'])}" for e in run["experiments"])
        burned = [s for s in run["slos"] if s["budget_burned"] is not None]
        if burned:
            top = max(burned, key=lambda s: s["budget_burned"])
            detail += f"  | most budget: {top['slo']} {top['budget_burned'] * 100:.3f}%"
    return (f"{(run['started'] or '?')[:19]:<20} {run['kind']:<9} {run['name'][:28]:<28} "
            f"{run['environment'][:20]:<20} {run['status']:<11} {detail}")


def lines(runs: list[dict]) -> list[str]:
    header = f"{'started':<20} {'kind':<9} {'name':<28} {'environment':<20} {'status':<11} " \
             "per experiment: detection, time to detect / per sweep: knee"
    return [header, *map(_run_line, runs)]
