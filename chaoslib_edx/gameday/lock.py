"""One game day per environment at a time: an flock held for the life of the run.

The kernel drops an flock when its holder dies, so a crashed or SIGKILLed run never
leaves a stale lock behind (its pending rollbacks are the ledger's business).
"""

import fcntl
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from chaoslib_edx.configuration import environment_file
from chaoslib_edx.environment import load_environment
from chaoslib_edx.errors import UserError
from chaoslib_edx.platforms import platform

if TYPE_CHECKING:
    from chaoslib_edx.dynamo import DynamoLease


class EnvironmentLock:
    def __init__(self, path: Path | str, environment: str) -> None:
        self.path, self.environment = Path(path), environment
        self._handle = None

    def acquire(self, run_dir: Path | str) -> "EnvironmentLock":
        """Take the lock or raise a UserError naming the holder; nothing else is touched."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"the environment '{self.environment}' is in use by another game "
                            f"day ({holder})", file=self.path,
                            fix="Wait for that run to end, or stop it (SIGTERM rolls it back)"
                            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "run_dir": str(run_dir),
                                 "since": time.strftime("%Y-%m-%dT%H:%M:%S")}))
        handle.flush()
        self._handle = handle
        return self

    def last_holder(self) -> dict | None:
        """Who held the lock when it was last taken and never released (a holder that
        died keeps its note in the file; a clean release empties it)."""
        try:
            return json.loads(self.path.read_text() or "null")
        except (FileNotFoundError, ValueError):
            return None

    def probe(self) -> None:
        """Raise the same UserError as acquire when the lock is held; take nothing."""
        self.acquire("(a dry run's probe)").release()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.truncate(0)
            self._handle.close()  # closing drops the flock
            self._handle = None


def environment_lock(configuration: dict) -> "EnvironmentLock | DynamoLease":
    """The configured environment's one lock, wherever the runner runs: in its state dir
    (the sandbox's, or the inventory's state.dir), or a lease in its DynamoDB table. An
    explicit ledger file (EDX_LEDGER) does not move it."""
    path = environment_file(configuration)
    target = platform(load_environment(path), path)
    environment = target.environment
    if environment.state.backend == "dynamodb":
        from chaoslib_edx.dynamo import DynamoLease

        return DynamoLease.of(environment, path)
    return EnvironmentLock(target.state_dir() / "lock", environment.name)
