"""Runs: who acts on an environment, and under which grant of its lease.

A run is a game day, a capacity run, a plain `chaos run` (through its safety control),
`recover`, or a process calling fault activities itself (a run of its own per call). It
holds the environment's lease for its length, and what it records (ledger lines, run.json)
carries its id and its fencing token. Within one process a run is re-entrant: the game
day's experiments run in-process and act under the game day's grant, never a second one.
"""

import functools
import inspect
import itertools
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from chaoslib.types import Configuration

from chaoslib_edx.context import run_context
from chaoslib_edx.lease.base import Lease, Say
from chaoslib_edx.lease.local import FileLease

F = TypeVar("F", bound=Callable)


@dataclass(eq=False)
class Run:
    id: str
    label: str         # what it is: "game day 'course launch'", "edx-gameday recover"
    lease: Lease
    run_dir: str | None = None  # where it writes, if anywhere
    ad_hoc: bool = False  # a process's own call outside any run: nothing reports on it
    began: float = field(default_factory=time.monotonic)
    # One sequence per run id: a process's own calls share theirs across grants.
    seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def name(self) -> str:
        """The run in words, as its ledger lines and `recover` name it."""
        return f"{self.label} in {self.run_dir}" if self.run_dir else self.label

    @property
    def token(self) -> int:
        return int(self.lease.token or 0)

    def next_seq(self) -> int:
        """The next number of this run's ledger lines: their order, never a clock."""
        return next(self.seq)

    def check(self) -> None:
        """LeaseLost unless this run's grant is still current."""
        self.lease.check()

    def lost_at(self) -> str | None:
        """When the lease was lost, as '+Ns' from the run's start; None while held."""
        if self.lease.lost_at is None:
            return None
        return f"+{self.lease.lost_at - self.began:.0f}s"


_runs: dict[str, Run] = {}  # lease key -> the run this process holds that lease under
_PROCESS_RUN = f"process-{uuid.uuid4().hex[:12]}"  # a process acting outside any run
_process_seq = itertools.count(1)


def _lease_of(configuration: Configuration | None, state_dir: Path | None = None
              ) -> tuple[str, Callable[[], Lease]]:
    """The configured environment's lease: a key naming it within this process, and how
    to make it (a DynamoDB client is made only when the lease is taken). STATE_DIR: where
    local state lives when not where the inventory says (`sandbox --state-dir`)."""
    context = run_context(configuration)
    target, path, environment = context.platform, context.env_file, context.environment
    if environment.state.backend == "dynamodb":
        def dynamo() -> Lease:
            from chaoslib_edx.dynamo import client_for  # boto3, only for this backend
            from chaoslib_edx.lease.dynamo import DynamoLease

            state = environment.state
            return DynamoLease(client_for(environment, path), state.table, environment.name,
                               state.lease_s, state.grace_s)

        return f"dynamodb:{environment.state.table}:{environment.name}", dynamo
    lock = (state_dir or target.state_dir()) / "lock"
    return str(lock.absolute()), lambda: FileLease(lock, environment.name)


def environment_lease(configuration: Configuration | None) -> Lease:
    """The configured environment's lease, not taken (a dry run probes it)."""
    return _lease_of(configuration)[1]()


def current(configuration: Configuration | None) -> Run | None:
    """The run under which this process holds the configured environment, if one is."""
    return _runs.get(_lease_of(configuration)[0])


def begin(configuration: Configuration | None, label: str, *, run_dir: Path | str | None = None,
          say: Say | None = None, on_lost: Callable[[str], None] | None = None,
          state_dir: Path | None = None) -> Run:
    """Take the configured environment's lease for a new run: LABEL says what it is, RUN_DIR
    where it writes (both name it to a refused run). LeaseHeld when another run holds the
    lease; ON_LOST(reason) is called if the grant is lost. STATE_DIR: see _lease_of."""
    key, make = _lease_of(configuration, state_dir)
    if key in _runs:
        raise RuntimeError(f"this process already runs {_runs[key].label} on that environment")
    note = {"run_dir": str(Path(run_dir).absolute())} if run_dir is not None else {}
    return _begin(key, make(), uuid.uuid4().hex[:12], label, note, say, on_lost)


def _begin(key: str, lease: Lease, run_id: str, label: str, note: dict, say: Say | None,
           on_lost: Callable[[str], None] | None,
           seq: Iterator[int] | None = None) -> Run:
    run = Run(run_id, label, lease, note.get("run_dir"), ad_hoc=seq is not None,
              **({"seq": seq} if seq is not None else {}))
    if on_lost is not None:
        lease.on_lost(on_lost)
    lease.acquire({"run": run_id, "label": label, **note, "pid": os.getpid(),
                   "host": socket.gethostname(),
                   "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, say)
    _runs[key] = run
    return run


def end(run: Run) -> None:
    """The run is over: its lease goes back (unless it was lost: then it is not ours)."""
    for key, held in list(_runs.items()):
        if held is run:
            del _runs[key]
    run.lease.release()


@contextmanager
def holding(configuration: Configuration | None) -> Iterator[Run]:
    """The run this process holds the environment under; outside one, a run of this
    process's own for the block's length (LeaseHeld while another run holds it)."""
    key, make = _lease_of(configuration)
    run = _runs.get(key)
    if run is not None:
        yield run
        return
    command = " ".join([Path(sys.orig_argv[0]).name, *sys.orig_argv[1:3]])[:60]
    run = _begin(key, make(), _PROCESS_RUN, f"process {os.getpid()} ({command}) calling "
                 "faults itself", {}, None, None, _process_seq)
    try:
        yield run
    finally:
        end(run)


def fenced(activity: F) -> F:
    """A fault activity that changes the environment (a fault or its rollback): it acts
    only under a current grant of the environment's lease, its caller's run's or, called
    outside any run, one of its own for the call. LeaseLost or LeaseHeld otherwise."""
    signature = inspect.signature(activity)

    @functools.wraps(activity)
    def act(*args: object, **kwargs: object) -> object:
        configuration = signature.bind(*args, **kwargs).arguments.get("configuration")
        with holding(configuration) as run:
            run.check()
            return activity(*args, **kwargs)

    return act  # type: ignore[return-value]
