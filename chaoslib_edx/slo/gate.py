"""The error-budget gate: a game day or capacity run does not start while a gated SLO has
less of its error budget left, over its catalog period and as the platform's own
monitoring saw it, than the file's `budget_gate.min_remaining`. A human who decides
otherwise passes one SLO at a time by name (`--ignore-budget-gate`), and the report
records it. A budget the source cannot read (no data over the period) is unknown, and an
unknown budget does not pass: the gate exists because a spent budget stops risky work.
"""

import getpass
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from chaoslib_edx.errors import UserError
from chaoslib_edx.model import Model
from chaoslib_edx.slo.catalog import Catalog, Slo

SOURCES = ("prometheus", "cloudwatch", "newrelic")


class BudgetGate(Model):
    """A game day's or capacity plan's `budget_gate`."""

    min_remaining: float = Field(gt=0, le=1, description="the share of each gated SLO's "
                                                         "budget that must be left to start")
    source: Literal[SOURCES] = Field(  # type: ignore[valid-type]
        description="the monitoring that says what the servers saw: prometheus (the "
                    "sandbox's), cloudwatch (the SLO's cloudwatch metrics), newrelic (its NRQL)")
    slos: list[str] = Field([], description="the SLOs gated (default: the file's slos the "
                                            "source measures)")


@dataclass
class Budget:
    """One gated SLO's budget as the run was about to start."""

    slo: str
    period_days: float
    good_share: float | None   # over the period; None: the source had no data
    remaining: float | None    # the share of the period's budget left (below 0: overspent)
    passed: bool
    ignored: bool = False      # below the threshold or unknown, and a human went ahead

    def text(self, source: str) -> str:
        """What the gate says of it: 'authentication has 12% of its 30-day budget left'."""
        days = f"{self.period_days:g}-day"
        if self.remaining is None:
            return (f"{self.slo}'s {days} budget left is unknown ({source} has no data over "
                    "the period)")
        if self.remaining <= 0:
            return f"{self.slo} has spent its {days} budget ({1 - self.remaining:.0%} of it)"
        return f"{self.slo} has {self.remaining:.0%} of its {days} budget left"


def check_names(gate: BudgetGate | None, catalog: Catalog, file: Path | str) -> None:
    """Each SLO the gate names is in the catalog (exit 2 naming budget_gate.slos.N)."""
    names = {slo.name for slo in catalog.slos}
    for i, name in enumerate(gate.slos if gate else []):
        if name not in names:
            raise UserError(f"no SLO named '{name}' in the catalog (known: "
                            f"{', '.join(sorted(names))})", file=file,
                            field=f"budget_gate.slos.{i}")


def check(gate: BudgetGate | None, catalog: Catalog, slos: list[str],
          views: Callable[[], Mapping[str, object]], ignore: list[str],
          file: Path | str) -> list[Budget]:
    """The preflight's budgets: none without a gate (then --ignore-budget-gate is bad
    input), else read() from the sources VIEWS() gives."""
    if gate is None:
        if ignore:
            raise UserError(f"--ignore-budget-gate {ignore[0]}: there is no budget_gate to "
                            "pass", file=file, field="budget_gate")
        return []
    return read(gate, catalog, slos, views(), ignore, file)


def read(gate: BudgetGate, catalog: Catalog, slos: list[str], views: Mapping[str, object],
         ignore: list[str], file: Path | str, now: float | None = None) -> list[Budget]:
    """Each gated SLO's budget over its period up to NOW from the gate's source in VIEWS
    (SLOS: the file's, gated when the gate names none); those in IGNORE pass, marked.
    Bad input (a source the environment lacks, an SLO it cannot measure, an ignored name
    the gate does not hold) raises UserError naming the file's field."""
    view = views.get(gate.source)
    if view is None:
        raise UserError(f"the environment has no {gate.source} to read budgets from (it has: "
                        f"{', '.join(views) or 'none'})", file=file, field="budget_gate.source")
    if gate.slos:
        gated = [catalog.get(name) for name in gate.slos]
        unmeasured = [slo.name for slo in gated if not view.measures(slo)]
        if unmeasured:
            raise UserError(f"{gate.source} has no query for {', '.join(unmeasured)} in the "
                            "catalog", file=file, field="budget_gate.slos")
    else:
        gated = [slo for slo in (catalog.get(name) for name in slos) if view.measures(slo)]
        if not gated:
            raise UserError(f"{gate.source} measures none of {', '.join(slos)}", file=file,
                            field="budget_gate.source",
                            fix="Give the SLOs queries for it in the catalog, or name "
                                "budget_gate.slos")
    unknown = sorted(set(ignore) - {slo.name for slo in gated})
    if unknown:
        raise UserError(f"--ignore-budget-gate {unknown[0]}: the gate holds no such SLO "
                        f"(it gates {', '.join(slo.name for slo in gated)})", file=file,
                        field="budget_gate.slos")
    now = time.time() if now is None else now
    return [_budget(gate, slo, view.good_share(slo, now - slo.budget_period_s, now),
                    slo.name in ignore) for slo in gated]


def _budget(gate: BudgetGate, slo: Slo, good: float | None, ignored: bool) -> Budget:
    remaining = None if good is None else 1 - (1 - good) / slo.error_budget
    passed = remaining is not None and remaining >= gate.min_remaining
    return Budget(slo.name, slo.budget_period_days, good, remaining, passed,
                  ignored and not passed)


def enforce(gate: BudgetGate | None, budgets: list[Budget], whose: str,
            file: Path | str) -> None:
    """Refuse to start (UserError, exit 2) while a gated budget is below the threshold or
    unknown and nobody passed it by name; WHOSE: 'game day' or 'capacity plan'."""
    refused = [b for b in budgets if not b.passed and not b.ignored]
    if gate is not None and refused:
        raise UserError("; ".join(f"{b.text(gate.source)}, below the {whose}'s "
                                  f"{gate.min_remaining:.0%}" for b in refused),
                        file=file, field="budget_gate",
                        fix="Let the budget recover first; a human who decides otherwise "
                            "passes an SLO with --ignore-budget-gate NAME (the report says so)")


def lines(gate: BudgetGate | None, budgets: list[Budget], whose: str) -> list[str]:
    """The dry run's lines: each gated budget and what the gate would do."""
    if gate is None:
        return []
    verdicts = {(True, False): "ok", (False, True): "below, passed by --ignore-budget-gate",
                (False, False): "REFUSED"}
    return [f"budget: {b.text(gate.source)} (the {whose}'s gate: {gate.min_remaining:.0%}; "
            f"{verdicts[b.passed, b.ignored]})" for b in budgets]


def record(gate: BudgetGate | None, budgets: list[Budget]) -> dict | None:
    """What the report keeps of the gate, with who passed a budget below it."""
    if gate is None:
        return None
    ignored = any(b.ignored for b in budgets)
    return {"source": gate.source, "min_remaining": gate.min_remaining,
            "ignored_by": getpass.getuser() if ignored else None,
            "budgets": [{**asdict(b), "text": b.text(gate.source)} for b in budgets]}
