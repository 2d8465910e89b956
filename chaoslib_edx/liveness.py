"""Faults stay live, or the verdict says they did not: from the end of a fault action
until one of its fault's rollbacks starts, the action's live check (the registry's
`lives`: the delay still set, the origin still broken...) is polled. A fault that ends
early, a process restarted without it or someone undoing it by hand, is recorded with
when it ended: what the steady state showed afterwards was not the fault's doing, so the
experiment is inconclusive (the safety control puts it in the journal).

A low-level module beside the ledger: fault activities are decorated with `watched`.
"""

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import import_module
from typing import TypeVar

from chaoslib_edx import lease
from chaoslib_edx.faults import Fault, of_module
from chaoslib_edx.targets import resolve

POLL_S = 1.0
MAX_ERRORS_KEPT = 5
F = TypeVar("F", bound=Callable)
logger = logging.getLogger("chaostoolkit")


@dataclass
class FaultLife:
    """One fault from its action's end: whether its live check still saw it in effect."""

    fault: str                      # the registry kind
    target: str
    action: str
    live_at: float                  # time.time() the action returned
    check: str | None               # the live check; None: an instantaneous fault (a kill)
    observable: bool | None = None  # False: this platform cannot show it; None: not known yet
    ended_at: float | None = None   # time.time() the check first found it over
    checks: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ended_after_s(self) -> float | None:
        return None if self.ended_at is None else round(self.ended_at - self.live_at, 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "ended_after_s": self.ended_after_s}


class _Watch(threading.Thread):
    """Polls one fault's live check until stopped, or until it finds the fault over."""

    def __init__(self, life: FaultLife, check: Callable, arguments: dict, result: dict,
                 configuration: dict | None, secrets: dict | None,
                 poll_s: float = POLL_S) -> None:
        super().__init__(name=f"live-{life.fault}", daemon=True)
        self.life, self._check, self._poll_s = life, check, poll_s
        self._arguments, self._result = arguments, result
        self._configuration, self._secrets = configuration, secrets
        self._halt = threading.Event()  # not _stop: Thread has its own

    def run(self) -> None:
        target = resolve(self.life.fault, self.life.target, self._configuration)
        while not self._halt.is_set():
            try:
                live = self._check(target, self._arguments, self._result, self._secrets)
            except Exception as exc:  # unreachable for now: unknown, never "ended"
                if len(self.life.errors) < MAX_ERRORS_KEPT:
                    self.life.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                self._halt.wait(self._poll_s)
                continue
            self.life.checks += 1
            if live is None:  # the platform cannot show it: nothing to poll
                self.life.observable = False
                return
            self.life.observable = True
            if not live and not self._halt.is_set():  # a rollback may have begun meanwhile
                self.life.ended_at = time.time()
                logger.error(f"fault {self.life.action} on {self.life.fault} "
                             f"'{self.life.target}' is no longer in effect "
                             f"{self.life.ended_after_s:g} s after it went live: what follows "
                             "is not its doing, and the experiment is inconclusive")
                return
            self._halt.wait(self._poll_s)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=self._poll_s + 10)


_watches: dict[str, list[_Watch]] = {}  # run id -> its faults' watches, in order
_guard = threading.Lock()


def watched(activity: F) -> F:
    """A fault activity whose fault is watched: a fault action starts its live check when
    it returns; a rollback stops the checks of its fault's target before it acts."""
    fault = of_module(activity.__module__)
    signature = inspect.signature(activity)

    @functools.wraps(activity)
    def act(*args: object, **kwargs: object) -> object:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        configuration, secrets = arguments.pop("configuration"), arguments.pop("secrets")
        run = lease.current(configuration)
        if run is None or run.ad_hoc:  # a call of its own: no verdict to inform
            return activity(*args, **kwargs)
        name = arguments[fault.argument]
        if activity.__name__ in fault.rollbacks:
            _stop(run.id, fault.kind, name)
            return activity(*args, **kwargs)
        result = activity(*args, **kwargs)
        _start(run.id, fault, activity.__name__, name, arguments, result, configuration,
               secrets)
        return result

    return act  # type: ignore[return-value]


def _start(run_id: str, fault: Fault, action: str, target: str, arguments: dict,
           result: dict, configuration: dict | None, secrets: dict | None) -> None:
    check = fault.lives[action]
    life = FaultLife(fault.kind, target, action, time.time(), check)
    watch = _Watch(life, getattr(import_module(fault.actions_module), check) if check else None,
                   arguments, result or {}, configuration, secrets)
    with _guard:
        _watches.setdefault(run_id, []).append(watch)
    if check is not None:
        watch.start()


def _stop(run_id: str, kind: str, target: str) -> None:
    with _guard:
        watches = [w for w in _watches.get(run_id, [])
                   if w.life.fault == kind and w.life.target == target]
    for watch in watches:
        if watch.is_alive():
            watch.stop()


def count(run_id: str) -> int:
    """How many faults run RUN_ID has applied so far (a mark for `finish`)."""
    with _guard:
        return len(_watches.get(run_id, []))


def finish(run_id: str, since: int = 0) -> list[dict]:
    """Stop watching the faults run RUN_ID applied from mark SINCE on; what each showed."""
    with _guard:
        watches = _watches.get(run_id, [])[since:]
    for watch in watches:
        if watch.is_alive():
            watch.stop()
    return [watch.life.to_dict() for watch in watches]


def ended_early(lives: list[dict]) -> dict | None:
    """The first of LIVES whose fault ended before its rollback, else None."""
    return next((life for life in lives if life.get("ended_at") is not None), None)
