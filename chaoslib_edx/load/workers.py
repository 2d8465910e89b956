"""Locust workers on other hosts: what a run expects of them, and the master's log of who
joined and who left, read by the runner while the load runs.

Pure Python (no locust import): the master's plugin writes the log (load.membership),
the runner and the report read it here.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Discriminator, Field, Tag

from chaoslib_edx.errors import UserError
from chaoslib_edx.model import Model

WORKERS_FILE = "workers.jsonl"  # beside the metrics: {"t", "event", "worker", "workers"}
LOCUST_MASTER_PORT = 5557  # Locust's own default, where an inventory names no port


class RemoteWorkers(Model):
    """Workers started elsewhere (other hosts, a Kubernetes Deployment) that join this
    run's master at the inventory's load_master address."""

    expect: int = Field(ge=1, le=1000, description="workers that must join before any fault")
    join_timeout_s: float = Field(60, ge=1, le=1800,
                                  description="how long the master waits for them")


def _kind(value: object) -> str:
    return "RemoteWorkers" if isinstance(value, (dict, RemoteWorkers)) else "LocalWorkers"


# An int: that many local workers on the runner's machine (0: one Locust process); a
# mapping: remote workers. Tagged, so an error names the field of the form it is in.
Workers = Annotated[Annotated[Annotated[int, Field(ge=0, le=8)], Tag("LocalWorkers")]
                    | Annotated[RemoteWorkers, Tag("RemoteWorkers")], Discriminator(_kind)]


class WorkersMissing(UserError):
    """Remote workers did not all join in time: the run is refused before any fault (its
    own type, so a runner never mistakes another error for this refusal). FILE: the game
    day or plan whose load.workers asked for them."""

    def __init__(self, problem: str, master: tuple[str, int], file: Path | str | None) -> None:
        host, port = master
        super().__init__(f"{problem} at {host}:{port}; preflight refused, nothing changed",
                         file=file, field="load.workers.join_timeout_s",
                         fix="Start the workers with --master-host/--master-port of that "
                             "address (deploy/kubernetes/ has a Deployment), or raise "
                             "join_timeout_s")


def process_count(workers: Workers) -> int:
    """The Locust processes that generate load: the workers, or the standalone one."""
    count = workers.expect if isinstance(workers, RemoteWorkers) else workers
    return max(1, count)


def describe(workers: Workers) -> str:
    if isinstance(workers, RemoteWorkers):
        return (f"{workers.expect} remote workers (joining within "
                f"{workers.join_timeout_s:g} s)")
    return f"{workers} local workers" if workers else "one Locust process"


MALFORMED_SHARE = 0.01  # above this share of a worker's reports malformed, its load is lost


@dataclass(frozen=True)
class WorkerEvent:
    t: float
    event: str  # "joined", "left", "refused", "malformed" or "cpu"
    worker: str
    workers: int  # verified workers connected after the event
    reason: str = ""  # left: "quit" or "missing" (heartbeats stopped); refused: why
    reports: int = 0  # malformed: the worker's reports so far, and how many were malformed
    malformed: int = 0
    cpu: float | None = None  # cpu: % of one core the worker measured in itself


def worker_events(folder: Path) -> list[WorkerEvent]:
    """Every event the master of a run in FOLDER logged (none for one Locust process)."""
    return WorkerLog(folder / WORKERS_FILE).poll()


class WorkerLog:
    """Reads the master's workers.jsonl as it grows; each event once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._offset = 0
        self.events: list[WorkerEvent] = []

    def poll(self) -> list[WorkerEvent]:
        """The events written since the last poll (whole lines only)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data[:data.rfind(b"\n") + 1]
        self._offset += len(complete)
        new = [WorkerEvent(**json.loads(line)) for line in complete.splitlines() if line]
        self.events += new
        return new

    def joined(self) -> int:
        """Workers connected now, as of the last poll."""
        return self.events[-1].workers if self.events else 0

    def left(self) -> list[WorkerEvent]:
        return [e for e in self.events if e.event == "left"]

    def malformed(self) -> str | None:
        """A worker whose malformed reports passed MALFORMED_SHARE of its reports, in
        words, else None."""
        last = {e.worker: e for e in self.events if e.event == "malformed"}
        for worker, event in last.items():
            if event.malformed > MALFORMED_SHARE * event.reports:
                return (f"worker {worker} sent {event.malformed} malformed reports of "
                        f"{event.reports} (dropped; more than {MALFORMED_SHARE:.0%})")
        return None
