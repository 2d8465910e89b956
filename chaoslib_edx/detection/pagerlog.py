"""The sandbox pager's log (<state>/logs/pages.jsonl, written by sandbox.pager): one JSON
line per Events v2 event received and per acknowledgement, each with its arrival time.

Read as PagerDuty reads events: a trigger opens an incident for its dedup key unless one
is open; later triggers for it are the same incident; acknowledge keeps it open but
taken; resolve closes it."""

import json
from dataclasses import replace
from pathlib import Path

from chaoslib_edx.detection.attribution import Page


def _incidents(log: Path) -> list[tuple[Page, bool]]:
    """Every incident of the log, in order, and whether it was resolved."""
    if not log.exists():
        return []
    incidents: list[Page] = []
    current: dict[str, int] = {}  # dedup key -> index of its open incident
    resolved: set[int] = set()
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        key, action = record.get("dedup_key"), record.get("action")
        index = current.get(key)
        if record.get("kind") == "ack" or action == "acknowledge":
            if index is not None and incidents[index].acked is None:
                incidents[index] = replace(incidents[index], acked=record["received"],
                                           acked_by=record.get("by"))
        elif action == "resolve":
            if index is not None:
                resolved.add(current.pop(key))
        elif action == "trigger" and index is None:
            details = record.get("payload", {}).get("custom_details", {})
            current[key] = len(incidents)
            incidents.append(Page(details.get("alertname", ""), details.get("slo", ""), key,
                                  record["received"]))
    return [(page, index in resolved) for index, page in enumerate(incidents)]


def read_pages(log: Path, start: float, end: float) -> list[Page]:
    """The incidents opened in [START, END], each with its acknowledgement."""
    return [page for page, _ in _incidents(log) if start <= page.received <= end]


def open_pages(log: Path) -> list[str]:
    """Dedup keys of incidents neither acknowledged nor resolved."""
    return [page.dedup_key for page, closed in _incidents(log)
            if not closed and page.acked is None]
