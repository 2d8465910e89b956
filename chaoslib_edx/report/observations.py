"""What the team saw and did during a game day, in order with what the platform did: the
notes taken in the console, the game master's holds and abort, acknowledgements, the
faults going live and rolled back, the alerts and pages. The scribe's log of a game day,
for the report and the postmortem's "Observations"."""

import json
from datetime import datetime, timezone

from chaoslib_edx.detection.source import SNAPSHOT
from chaoslib_edx.report.rundir import RunDir

TEAM_EVENTS = ("note", "hold", "release", "ack")


def _who(event: dict) -> str:
    return f"{event.get('by')} ({str(event.get('role', '')).replace('_', ' ')})"


def _line(event: dict) -> str | None:
    """The observation an event of the timeline makes, or None (not one to list)."""
    kind, name = event["event"], event.get("experiment")
    if kind == "note":
        during = f" during {event['during']}" if event.get("during") else ""
        return f"note by {_who(event)}{during}: {event.get('text', '')}"
    if kind == "hold":
        return f"held by {_who(event)}: the next fault waits"
    if kind == "release":
        return f"released by {_who(event)} after {event.get('held_s', 0):g} s held"
    if kind == "ack":
        taken = len(event.get("pages") or [])
        return f"{taken} open page{'s' if taken != 1 else ''} acknowledged by {_who(event)}"
    if kind == "fault_start":
        return f"{name}: fault live"
    if kind == "fault_end":
        return f"{name}: rolled back"
    if kind == "abort":
        return f"aborted: {event.get('reason')}"
    return None


def observations(run: RunDir) -> dict:
    """The notes, the holds and the merged observations (each with its time into the
    run: seconds since the load started)."""
    zero = next((e["t"] for e in run.timeline if e["event"] == "load_start"),
                run.timeline[0]["t"] if run.timeline else 0.0)

    def at(t: float) -> dict:
        return {"t": t, "run_s": round(t - zero, 1),
                "time": datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M:%S")}

    items = [{**at(e["t"]), "kind": e["event"], "text": text}
             for e in run.timeline if (text := _line(e)) is not None]
    notes = [{**at(e["t"]), "text": e.get("text", ""), "by": e.get("by"),
              "role": e.get("role"), "during": e.get("during")}
             for e in run.timeline if e["event"] == "note"]
    holds = [{**at(e["t"]), "by": e.get("by"), "held_s": e.get("held_s")}
             for e in run.timeline if e["event"] == "release"]
    try:
        seen = json.loads((run.path / SNAPSHOT).read_text())
    except (OSError, ValueError):
        seen = {}
    for firing in seen.get("firings", []) if isinstance(seen, dict) else []:
        items.append({**at(firing["start"]), "kind": "alert",
                      "text": f"alert {firing['alert']} firing ({firing.get('severity')})"})
    for page in seen.get("pages", []) if isinstance(seen, dict) else []:
        items.append({**at(page["received"]), "kind": "page", "text": f"paged: {page['alert']}"})
        if page.get("acked") is not None:
            items.append({**at(page["acked"]), "kind": "page_ack",
                          "text": f"page {page['alert']} acknowledged by {page.get('acked_by')}"})
    items.sort(key=lambda item: item["t"])
    # A rule fires as one alert per window pair: the same name at the same time is one line.
    items = [item for i, item in enumerate(items)
             if i == 0 or (item["t"], item["text"]) != (items[i - 1]["t"], items[i - 1]["text"])]
    return {"notes": notes, "holds": holds, "observations": items}
