"""The sandbox pager's log (<state>/logs/pages.jsonl, written by sandbox.pager): one JSON
line per Events v2 event received and per acknowledgement, each with its arrival time.

Read as PagerDuty reads events: a trigger opens an incident for its dedup key unless one
is open; later triggers for it are the same incident; acknowledge keeps it open but
taken; resolve closes it."""

import json
from dataclasses import replace
from pathlib import Path

from chaoslib_edx.detection.attribution import Page


class PageLog:
    """The incidents of a pager's log, in order, each with whether it was resolved, and
    how many lines were skipped: not JSON, or not an event or acknowledgement this log
    can hold (a pager from before events were checked took anything)."""

    def __init__(self, log: Path) -> None:
        self.incidents: list[Page] = []
        self.resolved: set[int] = set()
        self.skipped = 0
        if log.exists():
            current: dict[str, int] = {}  # dedup key -> index of its open incident
            for line in log.read_text(errors="replace").splitlines():
                if line.strip() and not self._read(line, current):
                    self.skipped += 1

    def _read(self, line: str, current: dict[str, int]) -> bool:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            return False
        if not isinstance(record, dict) or not isinstance(record.get("dedup_key"), str) \
                or not isinstance(record.get("received"), int | float):
            return False
        key, action = record["dedup_key"], record.get("action")
        index = current.get(key)
        if record.get("kind") == "ack" or action == "acknowledge":
            if index is not None and self.incidents[index].acked is None:
                by = record.get("by")
                self.incidents[index] = replace(self.incidents[index], acked=record["received"],
                                                acked_by=by if isinstance(by, str) else None)
        elif action == "resolve":
            if index is not None:
                self.resolved.add(current.pop(key))
        elif action == "trigger":
            payload = record.get("payload")
            details = payload.get("custom_details") if isinstance(payload, dict) else None
            if not isinstance(details, dict):
                return False
            if index is None:
                current[key] = len(self.incidents)
                self.incidents.append(Page(str(details.get("alertname", "")),
                                           str(details.get("slo", "")), key,
                                           record["received"]))
        else:
            return False
        return True

    def pages(self, start: float, end: float) -> list[Page]:
        """The incidents opened in [START, END], each with its acknowledgement."""
        return [page for page in self.incidents if start <= page.received <= end]

    def open(self) -> list[str]:
        """Dedup keys of incidents neither acknowledged nor resolved."""
        return [page.dedup_key for index, page in enumerate(self.incidents)
                if index not in self.resolved and page.acked is None]


def read_pages(log: Path, start: float, end: float) -> list[Page]:
    """The incidents opened in [START, END], each with its acknowledgement."""
    return PageLog(log).pages(start, end)


def open_pages(log: Path) -> list[str]:
    """Dedup keys of incidents neither acknowledged nor resolved."""
    return PageLog(log).open()
