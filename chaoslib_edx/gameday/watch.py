"""Watch the live SLOs while a game day runs and trip its abort conditions.

A thread reads the load's metrics file every POLL_S (Locust writes it from another
process), keeps the current SLO values for the progress display and checks each abort
condition on the newest recorded seconds. Abort conditions guard the faults: they are
armed when the first fault goes live. A burn-rate window always spans its full length,
reaching back into the steady state before the fault when it must: a window clipped to
the few seconds since the fault began would trip on a handful of failed requests. The
first condition that trips calls `on_abort` once; the runner interrupts the experiment
and rolls back.

The watcher is the safety net, so it never dies: a damaged metrics line is skipped by
the series, any other failure is caught, logged and counted, and a watcher that cannot
evaluate its armed conditions for longer than their longest window aborts (fail safe).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chaoslib.types import Configuration

from chaoslib_edx.gameday.schema import BurnRateAbort, Loaded, ProbeAbort
from chaoslib_edx.load.series import Series
from chaoslib_edx.slo.evaluator import RunningBudget, evaluate, scaled

POLL_S = 0.25
CURRENT_WINDOW_S = 10  # the SLO values shown while the run goes
MIN_BLIND_S = 5        # the shortest time blind before the watcher aborts to fail safe
MAX_ERRORS_KEPT = 20   # failures are counted; the first ones are kept for the report
logger = logging.getLogger("chaostoolkit")


@dataclass
class Trip:
    reason: str
    condition: int                 # index in the game day's abort list
    second: int | None = None      # the metrics second whose arrival tripped it
    details: dict = field(default_factory=dict)


class Watcher(threading.Thread):
    def __init__(self, gameday: Loaded, metrics: Path, configuration: Configuration,
                 on_abort: Callable[[Trip], None]) -> None:
        super().__init__(name="slo-watcher", daemon=True)
        self.gameday, self.configuration, self.on_abort = gameday, configuration, on_abort
        self.series = Series(metrics)
        self.current: dict[str, dict] = {}   # slo name -> value, met, over the last 10 s
        # abort condition index -> its latest reading (burn rates against the limit, a
        # probe's output), for the console: how close each is to tripping
        self.readings: dict[int, dict] = {}
        self._budgets = {name: RunningBudget(gameday.catalog.get(name))
                         for name in gameday.spec.slos}
        self.rate = 0.0                      # requests/s over the same window
        self.errors: list[str] = []          # what failed (the first MAX_ERRORS_KEPT)
        self.failures = 0                    # how many times anything in it failed
        self._halt = threading.Event()
        self._armed = False
        self._tripped = False
        self._probe_due = [0.0] * len(gameday.spec.abort)

    def arm(self) -> None:
        """Start checking the abort conditions (from the first fault on)."""
        self._armed = True

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def blind_limit_s(self) -> float:
        """How long the watcher may fail to evaluate before it aborts: its longest window."""
        windows = [MIN_BLIND_S]
        for cond in self.gameday.spec.abort:
            if isinstance(cond, ProbeAbort):
                windows.append(2 * cond.every_seconds)
            elif cond.rule is not None:
                slo = self.gameday.catalog.get(cond.slo)
                windows.append(scaled(slo, slo.rule(cond.rule),
                                      self.gameday.spec.max_duration_s)[0])
            else:
                windows.append(cond.window_seconds)
        return max(windows)

    def run(self) -> None:
        seen, evaluated = None, time.monotonic()
        while not self._halt.wait(POLL_S):
            try:
                last = self.series.refresh().last
                if last is not None and last != seen:
                    seen = last
                    self._update(last)
                    self._check_burn(last)
                if self._armed:
                    self._check_probes()
                evaluated = time.monotonic()
            except Exception as exc:  # the safety net must not die: count it, say it
                self._failed(f"the abort watcher failed: {type(exc).__name__}: {exc}")
                blind = time.monotonic() - evaluated
                if self._armed and blind > self.blind_limit_s():
                    self._trip(Trip(f"the abort watcher could not evaluate the abort "
                                    f"conditions for {blind:.0f} s ({type(exc).__name__}: "
                                    f"{exc}); aborting to fail safe", -1))

    def _failed(self, what: str) -> None:
        self.failures += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(what[:500])
            logger.error(what[:500])

    def _update(self, last: int) -> None:
        start, end = last - CURRENT_WINDOW_S + 1, last + 1
        self.rate = self.series.window(start, end).count / CURRENT_WINDOW_S
        for name in self.gameday.spec.slos:
            result = evaluate(self.gameday.catalog.get(name), self.series, start, end)
            self.current[name] = {"value": result.value, "met": result.met,
                                  "burn_rate": result.burn_rate, "total": result.total,
                                  "budget_burned": self._budgets[name].update(self.series,
                                                                              last)}

    def _trip(self, trip: Trip) -> None:
        if not self._tripped:
            self._tripped = True
            self.on_abort(trip)

    def _check_burn(self, last: int) -> None:
        for index, cond in enumerate(self.gameday.spec.abort):
            if not isinstance(cond, BurnRateAbort):
                continue
            slo = self.gameday.catalog.get(cond.slo)
            if cond.rule is not None:
                rule = slo.rule(cond.rule)
                windows = scaled(slo, rule, self.gameday.spec.max_duration_s)
                limit, named = rule.burn_rate, f", rule '{rule.name}'"
            else:
                windows, limit, named = (cond.window_seconds,), cond.burn_rate_above, ""
            results = [evaluate(slo, self.series, last - w + 1, last + 1) for w in windows]
            first = results[0]
            self.readings[index] = {"limit": limit, "min_requests": cond.min_requests,
                                    "requests": first.total, "armed": self._armed,
                                    "windows": [{"window_s": r.end - r.start,
                                                 "burn_rate": r.burn_rate} for r in results]}
            if self._armed and first.total >= cond.min_requests and all(
                    r.burn_rate is not None and r.burn_rate > limit for r in results):
                burned = " and ".join(f"{r.burn_rate:.1f}x over {r.end - r.start} s"
                                      for r in results)
                self._trip(Trip(
                    f"abort condition {index}: {cond.slo} burned its error budget at {burned}"
                    f" (limit {limit:g}x{named}) up to "
                    f"{time.strftime('%H:%M:%S', time.gmtime(last))} UTC "
                    f"({first.total - first.good} bad of {first.total} requests)",
                    index, last, first.to_dict()))

    def _check_probes(self) -> None:
        from chaoslib.activity import run_activity
        from chaoslib.hypothesis import within_tolerance

        now = time.monotonic()
        for index, cond in enumerate(self.gameday.spec.abort):
            if not isinstance(cond, ProbeAbort) or now < self._probe_due[index]:
                continue
            self._probe_due[index] = now + cond.every_seconds
            activity = {"type": "probe", "name": f"abort-{index}", **cond.probe}
            try:
                output = run_activity(activity, self.configuration, {})
            except Exception as exc:  # a probe that cannot run is reported, not fatal
                self._failed(f"abort condition {index}: {exc}")
                continue
            within = within_tolerance(cond.tolerance, output, self.configuration, {})
            self.readings[index] = {"output": output, "within": bool(within), "armed": True}
            if not within:
                self._trip(Trip(f"abort condition {index}: probe "
                                f"{cond.probe.get('provider', {}).get('func', '?')} returned "
                                f"{output!r}, outside its tolerance {cond.tolerance!r}",
                                index, details={"output": output}))
