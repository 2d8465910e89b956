"""`sandbox up` and `sandbox down` change the platform runs act on, so each holds the
environment's lease for its length: refused while a game day, a capacity run or an
experiment holds it, naming the holder.

`--force` is for a human who knows, and is written to the sandbox log: `down` first stops
the holder with SIGTERM (a game day rolls back and reports, exit 3) and waits for its
lease, then stops the platform; `up` goes ahead beside the holder.
"""

import getpass
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil

from chaoslib_edx import lease
from chaoslib_edx.context import ENV_KEY
from chaoslib_edx.lease.base import LeaseHeld, who
from chaoslib_edx.sandbox.layout import Layout

HOLDER_STOP_S = 120  # how long a forced `down` waits for the holder it stopped to roll back


@contextmanager
def exclusive(env_file: str, layout: Layout, command: str, force: bool,
              echo: Callable[[str], None]) -> Iterator["lease.Run | None"]:
    """Hold ENV_FILE's lease while sandbox COMMAND runs (LeaseHeld when another run holds
    it and not FORCE); yields the run holding it, None when forced beside another run.
    ECHO hears what a forced command does."""
    configuration = {ENV_KEY: env_file}
    label = f"edx-gameday sandbox {command}"
    try:
        run = lease.begin(configuration, label, state_dir=layout.gameday_dir)
    except LeaseHeld as held:
        if not force:
            raise LeaseHeld(held.environment, held.holder, file=held.file,
                            field=held.field,
                            fix=f"Wait for that run to end, or stop it (SIGTERM rolls it "
                                f"back); `sandbox {command} --force` goes ahead anyway") from None
        run = _forced(configuration, layout, command, held, echo)
    try:
        yield run
    finally:
        if run is not None:
            lease.end(run)


def _forced(configuration: dict, layout: Layout, command: str, held: LeaseHeld,
            echo: Callable[[str], None]) -> "lease.Run | None":
    """Go ahead although HELD: `down` stops a holder on this machine first and waits for
    its lease (returned, held); the sandbox log says what was done."""
    holder = held.holder or {}
    note = f"sandbox {command} --force while {who(holder)} held the environment"
    pid = int(holder.get("pid") or 0)
    if command != "down" or not _local_process(holder, pid):
        _log(layout, f"{note}: went ahead beside it")
        echo(f"sandbox: --force: going ahead while {who(holder)} holds the environment")
        return None
    echo(f"sandbox: --force: SIGTERM to {who(holder)}; waiting up to {HOLDER_STOP_S} s for its "
         "rollbacks")
    os.kill(pid, signal.SIGTERM)
    began = time.monotonic()
    while time.monotonic() - began < HOLDER_STOP_S:
        try:
            run = lease.begin(configuration, f"edx-gameday sandbox {command} --force",
                              state_dir=layout.gameday_dir)
        except LeaseHeld:
            time.sleep(0.5)
            continue
        _log(layout, f"{note}: SIGTERM to pid {pid}; its lease came back after "
                     f"{time.monotonic() - began:.1f} s")
        return run
    _log(layout, f"{note}: SIGTERM to pid {pid}; it still held the lease after "
                 f"{HOLDER_STOP_S} s, stopped anyway")
    return None


def _local_process(holder: dict, pid: int) -> bool:
    """Whether the holder is a live process of this machine (a note without a host is a
    local file lease's)."""
    return pid > 0 and holder.get("host", socket.gethostname()) == socket.gethostname() \
        and psutil.pid_exists(pid)


def _log(layout: Layout, line: str) -> None:
    """Append LINE to the sandbox log, with when and who."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    with (layout.logs / "sandbox.log").open("a") as out:
        out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} "
                  f"{getpass.getuser()} (pid {os.getpid()}): {line}\n")
