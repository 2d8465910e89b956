"""The recovery ledger: an append-only JSON Lines file of rollbacks, one per environment.

A fault appends its rollback (function and arguments, never secrets) and fsyncs it
before it acts; a rollback that ran appends a `done` line. What has no `done` line is
pending, whatever happened to the process that recorded it. A low-level module: every
fault writes it, so it imports no guardrail, runner or report code.
"""

import json
import os
import time
import uuid
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.configuration import LEDGER_KEY, environment_file, setting
from chaoslib_edx.environment import load_environment


@dataclass(frozen=True)
class Entry:
    id: str
    fault: str
    rollback: str        # "module:function"
    arguments: dict
    recorded_at: float


def ledger_path(configuration: Configuration | None) -> Path:
    """The configured ledger, else runs/ledger-<environment name>.jsonl."""
    explicit = setting(configuration, LEDGER_KEY)
    if explicit:
        return Path(explicit)
    env = load_environment(environment_file(configuration))
    return Path("runs") / f"ledger-{env.name}.jsonl"


class Ledger:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def _append(self, line: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record(self, fault: str, rollback: str, arguments: dict) -> str:
        """Write a rollback down (durably) before its fault acts; returns its id."""
        entry_id = uuid.uuid4().hex[:12]
        self._append({"id": entry_id, "fault": fault, "rollback": rollback,
                      "arguments": arguments, "recorded_at": time.time()})
        return entry_id

    def done(self, entry_id: str) -> None:
        self._append({"id": entry_id, "done": True, "at": time.time()})

    def pending(self) -> list[Entry]:
        if not self.path.exists():
            return []
        entries: dict[str, Entry] = {}
        for raw in self.path.read_text().splitlines():
            if not raw.strip():
                continue
            line = json.loads(raw)
            if line.get("done"):
                entries.pop(line["id"], None)
            else:
                entries[line["id"]] = Entry(line["id"], line["fault"], line["rollback"],
                                            line["arguments"], line["recorded_at"])
        return list(entries.values())

    def newest(self, rollback: str, **match: object) -> Entry | None:
        """The newest pending entry of ROLLBACK whose arguments include MATCH, else None."""
        found = [e for e in self.pending() if e.rollback == rollback
                 and all(e.arguments.get(k) == v for k, v in match.items())]
        return max(found, key=lambda e: e.recorded_at, default=None)

    def settle(self, rollback: str, arguments: dict) -> None:
        """Mark done every pending entry with this rollback and arguments (it just ran)."""
        for entry in self.pending():
            if entry.rollback == rollback and entry.arguments == arguments:
                self.done(entry.id)

    def run_pending(self, configuration: Configuration | None, secrets: Secrets | None
                    ) -> list[dict]:
        """Run every pending rollback, newest first; failures stay pending and are reported."""
        results = []
        for entry in sorted(self.pending(), key=lambda e: e.recorded_at, reverse=True):
            module, func = entry.rollback.split(":")
            try:
                getattr(import_module(module), func)(**entry.arguments,
                                                     configuration=configuration,
                                                     secrets=secrets)
            except Exception as exc:  # report and go on: other rollbacks must still run
                results.append({"id": entry.id, "rollback": entry.rollback, "ok": False,
                                "error": str(exc)})
                continue
            self.done(entry.id)
            results.append({"id": entry.id, "rollback": entry.rollback, "ok": True})
        return results


def record_rollback(fault: str, rollback: str, arguments: dict,
                    configuration: Configuration | None) -> str:
    """What a fault calls before it acts."""
    return Ledger(ledger_path(configuration)).record(fault, rollback, arguments)


def settle(rollback: str, arguments: dict, configuration: Configuration | None) -> None:
    """What a rollback calls after it restored its target."""
    Ledger(ledger_path(configuration)).settle(rollback, arguments)
