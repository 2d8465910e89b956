"""Capacity plans (gamedays/capacity-*.yaml): the arrival-rate sweep, the SLOs that say
whether a step holds, the projected peak to measure headroom against, the generator's own
limits, and the faults held live for degraded sweeps.

Validated like game days before anything starts: errors name the file and the dotted
field (exit 2). Rates are learner actions arriving per second (the open model's unit;
one action is one or more requests).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from chaoslib_edx.environment import Environment, load_environment, read_yaml
from chaoslib_edx.history.compare import Baseline
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import fault as registry_fault
from chaoslib_edx.files import relative_to
from chaoslib_edx.gameday.schema import resolved_paths
from chaoslib_edx.load.learners import read_learners
from chaoslib_edx.load.shapes import (
    POOL_S,
    READY_TIMEOUT_S,
    SPAWN_RATE,
    ArrivalCurve,
    ReplayCurve,
)
from chaoslib_edx.load.workers import Workers
from chaoslib_edx.model import Model, validation_error
from chaoslib_edx.slo.catalog import Catalog, load_catalog
from chaoslib_edx.slo.gate import BudgetGate, check_names

MAX_RATE = 5000  # arrivals/s: far past what one machine generates, a typo's guard


class Sweep(Model):
    """How the arrival rate grows: in steps, in one ramp, or as a recorded peak scaled up."""

    kind: Literal["steps", "ramp", "replay"] = "steps"
    start_rate: float = Field(10, gt=0, le=MAX_RATE, description="arrivals/s of the first step")
    step_rate: float = Field(10, gt=0, le=MAX_RATE, description="steps: added at each step")
    max_rate: float = Field(100, gt=0, le=MAX_RATE, description="steps and ramp: the last rate")
    step_s: float = Field(20, ge=4, le=3600, description="each step's length (ramp: each "
                                                          "evaluated window's)")
    settle_s: float = Field(2, ge=0, le=60, description="left out at each step's start")
    ramp_s: float = Field(120, gt=0, description="ramp: start_rate to max_rate over this")
    curve: str | None = Field(None, description="replay: offset_s,rps CSV of a recorded peak")
    time_scale: float = Field(720, gt=0, le=100_000, description="replay: time compression")
    scales: list[float] = Field([1.0, 1.5, 2.0], min_length=1,
                                description="replay: one step per scale of the curve")
    stop_after_breaks: int = Field(1, ge=1, le=10, description="consecutive steps with an "
                                                               "SLO broken that end a sweep")

    @model_validator(mode="after")
    def _consistent(self) -> "Sweep":
        if self.kind != "replay" and self.max_rate < self.start_rate:
            raise ValueError("max_rate must be at least start_rate")
        if self.settle_s >= self.step_s:
            raise ValueError("settle_s must be shorter than step_s")
        if self.kind == "replay" and (self.curve is None or any(s <= 0 for s in self.scales)):
            raise ValueError("a replay sweep needs 'curve' and scales > 0")
        return self


class ProjectedPeak(Model):
    """The peak the plan must hold: GROWTH times last term's RATE."""

    rate: float = Field(gt=0, le=MAX_RATE, description="arrivals/s at the reference peak")
    label: str = "last term's peak"
    growth: float = Field(1.0, gt=0, le=100, description="the multiple to plan for")

    @property
    def target(self) -> float:
        return self.rate * self.growth


class Generator(Model):
    """When a step measures the load generator rather than the platform."""

    max_cpu: float = Field(0.85, gt=0, le=1, description="share of one core per Locust "
                                                         "process")
    max_late: float = Field(0.01, ge=0, le=1, description="share of arrivals late or dropped")


class Degraded(Model):
    """A fault held live for a whole sweep, through its registry entry's hold action."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    fault: str
    target: str | None = Field(None, description="default: the platform's only target")
    arguments: dict[str, Any] = {}


class LoadSettings(Model):
    profile: str | None = Field(None, description="default: loadprofiles/open_launch.py")
    learners: str | None = None
    pool: int = Field(0, ge=0, le=5000, description=f"sessions (0: {POOL_S:g} s of the "
                                                    "peak rate)")
    workers: Workers = Field(0, description="local workers, or {expect, join_timeout_s} "
                                            "for workers on other hosts")


class Bounds(Model):
    max_duration_s: int = Field(600, ge=10, le=4 * 3600, description="per sweep")
    max_requests: int = Field(2_000_000, ge=1000, description="per sweep")


class Plan(Model):
    name: str = Field(min_length=1)
    description: str = ""
    environment: str | None = None
    slo_catalog: str | None = None
    slos: list[str] = Field(min_length=1)
    load: LoadSettings = LoadSettings()
    sweep: Sweep = Sweep()
    projected_peak: ProjectedPeak
    generator: Generator = Generator()
    degraded: list[Degraded] = []
    bounds: Bounds = Bounds()
    baseline: Baseline = Baseline()
    budget_gate: BudgetGate | None = Field(None, description="do not start while a gated "
                                                             "SLO's error budget is spent")


@dataclass(frozen=True)
class Step:
    index: int
    start_s: float   # from the first arrival
    end_s: float
    rate: float      # the step's target arrivals/s (a replay step: its scaled peak)
    settle_s: float

    @property
    def window(self) -> tuple[float, float]:
        """The evaluated part: the step without its settling seconds."""
        return self.start_s + self.settle_s, self.end_s


def schedule(sweep: Sweep, base: Path | None = None) -> tuple[ArrivalCurve, list[Step]]:
    """The arrival curve of one sweep and its steps."""
    if sweep.kind == "steps":
        count = int((sweep.max_rate - sweep.start_rate) / sweep.step_rate + 1e-9) + 1
        rates = [sweep.start_rate + i * sweep.step_rate for i in range(count)]
        curve = ArrivalCurve.steps(rates, sweep.step_s)
        return curve, [Step(i, i * sweep.step_s, (i + 1) * sweep.step_s, r, sweep.settle_s)
                       for i, r in enumerate(rates)]
    if sweep.kind == "ramp":
        curve = ArrivalCurve(((0, sweep.start_rate), (sweep.ramp_s, sweep.max_rate)))
        count = max(1, int(sweep.ramp_s // sweep.step_s))
        steps = [Step(i, i * sweep.step_s, (i + 1) * sweep.step_s,
                      curve.rate_at((i + 1) * sweep.step_s - 1e-9), 0.0) for i in range(count)]
        return curve, steps
    replay = ReplayCurve.from_csv(sweep.curve, 1.0, sweep.time_scale)
    if replay.column != "rps":
        raise UserError("a replay sweep needs a rate curve (offset_s,rps), not users",
                        file=sweep.curve, field="line 1")
    length = replay.duration_s
    points: list[tuple[float, float]] = []
    steps = []
    for i, scale in enumerate(sweep.scales):
        start = i * length
        # Each recorded row holds until the next: a step function of the scaled curve.
        times = [start + o / sweep.time_scale for o in replay.offsets] + [start + length]
        for t0, t1, value in zip(times, times[1:], replay.values):
            points += [(t0, value * scale), (t1, value * scale)]
        steps.append(Step(i, start, start + length, max(replay.values) * scale,
                          min(sweep.settle_s, length / 2)))
    return ArrivalCurve(tuple(points)), steps


class LoadedPlan:
    """A validated plan with what it refers to, loaded."""

    def __init__(self, path: Path, spec: Plan, env_file: str, environment: Environment,
                 catalog: Catalog, curve: ArrivalCurve, steps: list[Step]) -> None:
        self.path, self.spec, self.env_file, self.environment = path, spec, env_file, environment
        self.catalog, self.curve, self.steps = catalog, curve, steps
        self.sweeps: list[Degraded | None] = [None, *spec.degraded]  # None: the normal one

    def only(self, names: tuple[str, ...]) -> None:
        """Keep the sweeps NAMES ("normal" or a degraded one's name), in the plan's order;
        a UserError naming --sweep for one the plan does not have."""
        known = {(item.name if item else "normal"): item for item in self.sweeps}
        for name in names:
            if name not in known:
                raise UserError(f"no sweep named '{name}' in the plan (known: "
                                f"{', '.join(known)})", file=self.path, field="--sweep")
        self.sweeps = [item for name, item in known.items() if name in names]

    def pool(self) -> int:
        return self.spec.load.pool or max(10, int(self.curve.peak * POOL_S + 0.999))

    def sweep_bound_s(self) -> float:
        """How long one sweep may run: the pool's sign-ins, the curve, and a margin."""
        return self.pool() / SPAWN_RATE + READY_TIMEOUT_S + self.curve.duration_s + 5


def _resolved(spec: Plan, base: Path) -> Plan:
    """SPEC with its paths taken from BASE (the plan's directory), defaults filled in."""
    return spec.model_copy(update={
        **resolved_paths(spec, base, "loadprofiles/open_launch.py"),
        "sweep": spec.sweep.model_copy(update={
            "curve": relative_to(base, spec.sweep.curve, "") if spec.sweep.curve else None})})


def load_plan(path: Path | str, env_override: str | None = None) -> LoadedPlan:
    """Read and validate a capacity plan and what it names; UserError (exit 2) on any fault."""
    path = Path(path)
    try:
        spec = _resolved(Plan.model_validate(read_yaml(
            path, "Pass an existing capacity plan, such as "
                  "gamedays/capacity-enrollment-peak.yaml")), path.parent)
    except ValidationError as err:
        raise validation_error(path, err) from None
    catalog = load_catalog(spec.slo_catalog)
    names = {slo.name for slo in catalog.slos}
    for i, name in enumerate(spec.slos):
        if name not in names:
            raise UserError(f"no SLO named '{name}' in {spec.slo_catalog} (known: "
                            f"{', '.join(sorted(names))})", file=path, field=f"slos.{i}")
    check_names(spec.budget_gate, catalog, path)
    if not Path(spec.load.profile).is_file():
        raise UserError(f"no load profile at '{spec.load.profile}'", file=path,
                        field="load.profile")
    if spec.load.learners:
        try:
            read_learners(spec.load.learners)
        except UserError as exc:
            raise UserError(f"'{spec.load.learners}' {exc.message}", file=path,
                            field="load.learners") from None
    if spec.sweep.kind == "ramp" and spec.sweep.ramp_s > spec.bounds.max_duration_s:
        raise UserError(f"the ramp lasts {spec.sweep.ramp_s:g} s, longer than "
                        f"bounds.max_duration_s ({spec.bounds.max_duration_s} s)", file=path,
                        field="sweep.ramp_s", fix="Shorten the ramp or raise the bound")
    try:
        curve, steps = schedule(spec.sweep)
    except UserError as exc:  # the replay's CSV: the plan's field, then the file's line
        where = f" {exc.field}:" if exc.field else ""
        raise UserError(f"'{spec.sweep.curve}'{where} {exc.message}", file=path,
                        field="sweep.curve") from None
    if curve.duration_s > spec.bounds.max_duration_s:
        raise UserError(f"the sweep lasts {curve.duration_s:g} s ({len(steps)} steps), longer "
                        f"than bounds.max_duration_s ({spec.bounds.max_duration_s} s)",
                        file=path, field="sweep",
                        fix="Use fewer or shorter steps, or raise the bound")
    seen = set()
    for i, item in enumerate(spec.degraded):
        try:
            entry = registry_fault(item.fault)
        except KeyError as exc:
            raise UserError(str(exc.args[0]), file=path, field=f"degraded.{i}.fault") from None
        if entry.hold is None:
            raise UserError(f"the fault '{item.fault}' cannot be held live for a sweep (it "
                            f"has no hold action)", file=path, field=f"degraded.{i}.fault")
        if item.name in seen or item.name == "normal":
            raise UserError(f"'{item.name}' names another sweep already", file=path,
                            field=f"degraded.{i}.name")
        seen.add(item.name)
    env_file = env_override or spec.environment
    environment = load_environment(env_file)
    if environment.driver != "sandbox" and environment.endpoints is None:
        raise UserError("a capacity plan against a non-sandbox environment needs "
                        "'endpoints' (lms_url, cdn_url) for its load", file=env_file,
                        field="endpoints")
    return LoadedPlan(path, spec, env_file, environment, catalog, curve, steps)


def hold_activity(item: Degraded) -> dict:
    """The Chaos Toolkit action that holds ITEM's fault live (its registry hold action)."""
    entry = registry_fault(item.fault)
    arguments = dict(item.arguments)
    if item.target is not None:
        arguments[entry.argument] = item.target
    return {"type": "action", "name": f"hold-{item.name}",
            "provider": {"type": "python", "module": entry.actions_module, "func": entry.hold,
                         "arguments": arguments}}
