"""What every lease backend shares: a grant with a fencing token, its loss, and the errors.

A lease is a promise with an expiry, not a fact: its holder learns it lost the lease
only when it looks (a renewal refused, too long without one, a token no longer current),
so it looks before every act and stops at once when it has lost it.
"""

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from chaoslib.exceptions import InterruptExecution

from chaoslib_edx.errors import UserError

Say = Callable[[str], None]


class LeaseHeld(UserError, InterruptExecution):
    """Another run holds the environment: refused before anything acted (exit 2). An
    InterruptExecution too, so a refusal in a Chaos Toolkit control stops `chaos run`."""

    def __init__(self, environment: str, holder: dict | None, detail: str = "", *,
                 file: str, field: str | None = None, fix: str) -> None:
        self.environment, self.holder = environment, holder  # the note: label, run_dir, pid
        super().__init__(held_message(environment, holder, detail), file=file, field=field,
                         fix=fix)


class LeaseLost(InterruptExecution):
    """This run's lease is no longer current: it must not act, nor roll back anything."""


class Lease(ABC):
    """One environment's lease, as one run holds it."""

    def __init__(self, environment: str) -> None:
        self.environment = environment
        self.token: int | None = None     # the fencing token of the grant held, if one is
        self.took_over: dict | None = None  # the note of a holder that never released
        self.lost: str | None = None      # why the grant was lost, once it was
        self.lost_at: float | None = None  # when (time.monotonic) that was noticed
        self._on_lost: list[Callable[[str], None]] = []
        self._losing = threading.Lock()

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the lease lives, for messages (a file, or a DynamoDB table and key)."""

    @abstractmethod
    def acquire(self, holder: dict, say: Say | None = None) -> int:
        """Take the lease for HOLDER (a note: run id, label, pid, host) and return its
        fencing token, strictly greater than every earlier grant's; LeaseHeld when a live
        holder has it. SAY gets a line when taking it means a wait."""

    @abstractmethod
    def probe(self, say: Say | None = None) -> str:
        """What a run would meet, as a line for a dry run; LeaseHeld when a live holder
        has the lease. Takes nothing."""

    @abstractmethod
    def _current(self) -> str | None:
        """Why the grant held is not current any more, by asking where the lease lives;
        None while it is."""

    @abstractmethod
    def release(self) -> None:
        """Give the lease back (a lost one is left alone: it is someone else's now)."""

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """Call CALLBACK(reason) once, from whichever thread notices, when the grant is lost."""
        self._on_lost.append(callback)

    def check(self) -> None:
        """LeaseLost unless the grant held is still current: what a run calls before each
        fault and each rollback."""
        if self.lost is None:
            reason = self._current()
            if reason is not None:
                self._lose(reason)
        if self.lost is not None:
            raise LeaseLost(f"the lease on environment '{self.environment}' was lost: "
                            f"{self.lost}")

    def _lose(self, reason: str) -> None:
        with self._losing:
            if self.lost is not None:
                return
            self.lost, self.lost_at = reason, time.monotonic()
        for callback in self._on_lost:
            callback(reason)


def who(holder: dict | None) -> str:
    """A holder's note as words: what it is, its run directory, and where it runs."""
    if not holder:
        return "another run"
    name = str(holder.get("label") or "a game day")
    where = ", ".join(f"{k.replace('_', ' ')} {holder[k]}"
                      for k in ("run_dir", "pid", "host", "token") if holder.get(k))
    return f"{name} ({where})" if where else name


def held_message(environment: str, holder: dict | None, detail: str = "") -> str:
    """The sentence a refusal starts with: who holds ENVIRONMENT, and where it runs."""
    return f"the environment '{environment}' is in use by {who(holder)}" + (
        f"; {detail}" if detail else "")
