"""Runs for tests that write a ledger themselves: each holds a real grant of a lease of
its own (an flock and its token counter in a test directory), as a run's grant is."""

import json
from pathlib import Path

from chaoslib_edx.lease import Run
from chaoslib_edx.lease.local import FileLease
from chaoslib_edx.ledger import Ledger


def granted_run(directory: Path, run_id: str, label: str = "") -> Run:
    """A run whose lease (DIRECTORY/lock) is taken: its token is the next of that lease."""
    lease = FileLease(directory / "lock", "staging")
    lease.acquire({"run": run_id, "label": label or run_id})
    return Run(run_id, label or run_id, lease)


def crashed_run_entry(ledger: Ledger, directory: Path, fault: str, rollback: str,
                      arguments: dict, label: str = "a crashed game day") -> None:
    """An entry a run recorded before it died: its grant is gone, its entry pending."""
    run = granted_run(directory, "crashed", label)
    ledger.record(run, fault, rollback, arguments)
    run.lease.release()


def legacy_line(path: Path, entry_id: str, fault: str, rollback: str, arguments: dict,
                recorded_at: float) -> None:
    """A line as the ledger wrote it before lines named their run (no run, token or seq)."""
    with path.open("a") as out:
        out.write(json.dumps({"id": entry_id, "fault": fault, "rollback": rollback,
                              "arguments": arguments, "recorded_at": recorded_at},
                             sort_keys=True) + "\n")
