"""The lease of an environment whose state lives in local files: an flock, and a fencing
token counter kept beside it.

The kernel drops an flock when its holder dies, so a crashed or SIGKILLed run never
leaves a stale lock, and a paused one keeps it: there is no expiry to judge, and no clock.
The counter only moves under the flock, one step per grant.
"""

import fcntl
import json
import os
from pathlib import Path
from typing import IO

from chaoslib_edx.lease.base import Lease, LeaseHeld, Say


class FileLease(Lease):
    def __init__(self, path: Path | str, environment: str) -> None:
        super().__init__(environment)
        self.path = Path(path)
        self.counter = self.path.with_name(self.path.name + ".token")
        self._handle: IO[str] | None = None

    @property
    def where(self) -> str:
        return str(self.path)

    def _lock(self) -> IO[str]:
        """The open, flocked lock file, or LeaseHeld naming the holder its note names."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _note(handle.read())
            handle.close()
            raise LeaseHeld(self.environment, holder, file=str(self.path),
                            fix="Wait for that run to end, or stop it (SIGTERM rolls it "
                                "back)") from None
        return handle

    def acquire(self, holder: dict, say: Say | None = None) -> int:
        handle = self._lock()
        handle.seek(0)
        self.took_over = _note(handle.read())  # a holder that died keeps its note
        token = self._read_counter() + 1
        _write_synced(self.counter, f"{token}\n")
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({**holder, "token": token}))
        handle.flush()
        self._handle, self.token = handle, token
        return token

    def probe(self, say: Say | None = None) -> str:
        handle = self._lock()
        handle.close()  # closing drops the flock
        return f"lease: free (file {self.path}; the last grant's token {self._read_counter()})"

    def _read_counter(self) -> int:
        try:
            return int(self.counter.read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def _current(self) -> str | None:
        token = self._read_counter()
        if token != self.token:
            return (f"its fencing token {self.token} is not the current one ({token}, "
                    f"{self.counter})")
        return None

    def release(self) -> None:
        if self._handle is not None:
            self._handle.truncate(0)  # a clean release leaves no note: nobody crashed
            self._handle.close()
            self._handle = None


def _note(text: str) -> dict | None:
    try:
        note = json.loads(text or "null")
    except ValueError:
        return None
    return note if isinstance(note, dict) else None


def _write_synced(path: Path, text: str) -> None:
    """Replace PATH with TEXT durably: a token handed out must never be handed out again."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
