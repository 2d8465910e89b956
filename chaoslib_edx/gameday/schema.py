"""Game-day files (gamedays/*.yaml): who takes part, the load, the SLOs watched, the abort
conditions and the timeline of experiments.

Everything a run needs is checked here before anything starts: the file itself (pydantic,
errors name the dotted field), the SLO names against the catalog, each experiment with
chaoslib's own validator, the load profile and the environment inventory. Relative paths
in a game day are relative to the game-day file's directory; what it leaves out defaults
to gamedays/... in the working directory, else the copy shipped in the package.
"""

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from chaoslib_edx.environment import (
    Environment,
    load_environment,
    read_yaml,
)
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import SHIPPED, load_experiment_file, relative_to
from chaoslib_edx.history.compare import Baseline
from chaoslib_edx.load.learners import read_learners
from chaoslib_edx.load.shapes import LaunchCurve
from chaoslib_edx.load.workers import Workers
from chaoslib_edx.model import Model, validation_error
from chaoslib_edx.slo.catalog import Catalog, load_catalog
from chaoslib_edx.slo.evaluator import DEFAULT_BURN_THRESHOLD
from chaoslib_edx.slo.gate import BudgetGate, check_names


class Roles(Model):
    game_master: str
    on_call: list[str] = Field(min_length=1)
    observers: list[str] = []


class Shape(Model):
    """The course-launch curve (loadprofiles/course_launch.py), in platform time."""

    baseline_users: int = Field(10, ge=0, le=500)
    peak_users: int = Field(30, ge=1, le=500)
    baseline_s: float = Field(60, ge=0)
    spike_s: float = Field(30, ge=0)
    plateau_s: float = Field(600, ge=0)
    decay_s: float = Field(60, ge=0)
    time_scale: float = Field(1.0, gt=0, le=1000)


class Load(Model):
    profile: str | None = Field(None, description="default: the course-launch profile")
    shape: Shape = Shape()
    workers: Workers = Field(0, description="0: one Locust process; N: master + N local workers; "
                                         "{expect, join_timeout_s}: workers on other hosts "
                                         "join the master at the inventory's load_master")
    warmup_s: int = Field(15, ge=3, le=300, description="load before the first experiment")
    learners: str | None = Field(None, description="CSV of username,password the load signs "
                                                   "in as (default: the sandbox's learners)")


class BurnRateAbort(Model):
    """Abort when SLO burns its error budget too fast, checked once the first fault is
    live: faster than BURN_RATE_ABOVE over the last WINDOW_SECONDS, or, naming RULE, by
    that multi-window rule of the SLO catalog with its windows scaled to max_duration_s."""

    slo: str
    rule: str | None = Field(None, description="an alerting rule of the SLO, e.g. page")
    window_seconds: int = Field(30, ge=2, le=3600)
    burn_rate_above: float = Field(DEFAULT_BURN_THRESHOLD, gt=0)
    min_requests: int = Field(20, ge=1, description="no verdict on fewer requests")

    @model_validator(mode="after")
    def _one_way(self) -> "BurnRateAbort":
        if self.rule is not None and {"window_seconds", "burn_rate_above"} & self.model_fields_set:
            raise ValueError("give either 'rule' or 'window_seconds'/'burn_rate_above', "
                             "not both (a rule brings its own windows and burn rate)")
        return self


class ProbeAbort(Model):
    """Abort when a Chaos Toolkit probe, run every EVERY_SECONDS, leaves its tolerance."""

    probe: dict[str, Any]
    tolerance: Any
    every_seconds: float = Field(5, ge=0.5, le=600)


class Step(Model):
    experiment: str
    offset_s: float = Field(ge=0, description="start, seconds after the load's warm-up")
    observe_s: float = Field(20, ge=0, le=3600, description="watch after it ends")


class DetectionTargets(Model):
    """What the on-call is held to: acknowledging a page within mtta_s (each SLO's time to
    detect is its catalog's mttd_s). auto_ack_after_s simulates the on-call in unattended
    runs (CI): each page is taken that long after it came, and the report says so."""

    mtta_s: int = Field(900, ge=1, le=86400, description="page -> acknowledged")
    auto_ack_after_s: float | None = Field(None, ge=0, le=3600)


class Console(Model):
    """The live console (`run --console` turns it on too): the team watches, notes,
    acknowledges, holds and aborts from a browser."""

    enabled: bool = False
    port: int | None = Field(None, ge=1024, le=65535,
                             description="default: the sandbox's port_base+29, else 8090")


class GameDay(Model):
    name: str = Field(min_length=1)
    description: str = ""
    environment: str | None = Field(None, description="default: the sandbox inventory")
    slo_catalog: str | None = Field(None, description="default: gamedays/slos.yaml")
    roles: Roles
    load: Load = Load()
    slos: list[str] = Field(min_length=1)
    abort: list[BurnRateAbort | ProbeAbort] = []
    timeline: list[Step] = Field(min_length=1)
    detection: DetectionTargets = DetectionTargets()
    console: Console = Console()
    baseline: Baseline = Baseline()
    budget_gate: BudgetGate | None = Field(None, description="do not start while a gated "
                                                             "SLO's error budget is spent")
    max_duration_s: int = Field(900, ge=30, le=4 * 3600,
                                description="hard bound from the load's start (warm-up "
                                            "included): the load stops, the timeline aborts")

    @field_validator("timeline")
    @classmethod
    def _ordered(cls, timeline: list[Step]) -> list[Step]:
        offsets = [step.offset_s for step in timeline]
        if offsets != sorted(offsets):
            raise ValueError("offsets must not decrease")
        return timeline


class Loaded:
    """A validated game day with what it refers to, loaded."""

    def __init__(self, path: Path, spec: GameDay, env_file: str, environment: Environment,
                 catalog: Catalog, experiments: list[dict]) -> None:
        self.path, self.spec, self.env_file = path, spec, env_file
        self.environment, self.catalog, self.experiments = environment, catalog, experiments

    def steps(self) -> list[tuple[Step, dict]]:
        return list(zip(self.spec.timeline, self.experiments))


def experiment_name(step: Step) -> str:
    """The name a run directory files an experiment under (its file's stem)."""
    return Path(step.experiment).stem


def find_gameday(name: str) -> Path:
    """A game-day file, or the name of one shipped with the package ("course-launch")."""
    path = Path(name)
    shipped = SHIPPED / "gamedays" / f"{name}.yaml"
    return shipped if not path.exists() and not path.suffix and shipped.is_file() else path


def resolved_paths(spec: Any, base: Path, profile: str) -> dict:
    """The paths every run file (a game day, a capacity plan) shares, taken from BASE, the
    file's directory, with their defaults (PROFILE: the load profile's): a model update."""
    def at(value: str | None, default: str) -> str:
        return relative_to(base, value, default)

    return {"environment": at(spec.environment, "gamedays/environments/sandbox.yaml"),
            "slo_catalog": at(spec.slo_catalog, "gamedays/slos.yaml"),
            "load": spec.load.model_copy(update={
                "profile": at(spec.load.profile, profile),
                "learners": at(spec.load.learners, "") if spec.load.learners else None})}


def _resolved(spec: GameDay, base: Path) -> GameDay:
    """SPEC with relative paths taken from BASE (the game day's directory) and defaults
    filled in, so that nothing after this depends on the working directory."""
    return spec.model_copy(update={
        **resolved_paths(spec, base, "loadprofiles/course_launch.py"),
        "timeline": [step.model_copy(update={"experiment": relative_to(base, step.experiment,
                                                                       "")})
                     for step in spec.timeline]})


def load_gameday(path: Path | str, env_override: str | None = None) -> Loaded:
    """Read and validate a game day and everything it names; UserError (exit 2) on any fault."""
    path = Path(path)
    try:
        spec = _resolved(GameDay.model_validate(read_yaml(
            path, "Pass an existing game-day file, or a shipped one's name (course-launch)")),
            path.parent)
    except ValidationError as err:
        raise validation_error(path, err) from None
    catalog = load_catalog(spec.slo_catalog)
    names = {slo.name for slo in catalog.slos}
    wanted = [(f"slos.{i}", n) for i, n in enumerate(spec.slos)]
    wanted += [(f"abort.{i}.slo", a.slo) for i, a in enumerate(spec.abort)
               if isinstance(a, BurnRateAbort)]
    for field, name in wanted:
        if name not in names:
            raise UserError(f"no SLO named '{name}' in {spec.slo_catalog} (known: "
                            f"{', '.join(sorted(names))})", file=path, field=field)
    _check_timeline(path, spec)
    check_names(spec.budget_gate, catalog, path)
    for i, cond in enumerate(spec.abort):
        if isinstance(cond, BurnRateAbort) and cond.rule is not None:
            slo = catalog.get(cond.slo)
            if slo.rule(cond.rule) is None:
                raise UserError(f"the SLO '{cond.slo}' has no alerting rule '{cond.rule}' in "
                                f"{spec.slo_catalog} (known: "
                                f"{', '.join(r.name for r in slo.alerting)})", file=path,
                                field=f"abort.{i}.rule")
    if not Path(spec.load.profile).is_file():
        raise UserError(f"no load profile at '{spec.load.profile}'", file=path,
                        field="load.profile")
    LaunchCurve(**spec.load.shape.model_dump())  # the profile's own checks, early
    if spec.load.learners:
        try:
            read_learners(spec.load.learners)
        except UserError as exc:  # the game day's field, then the file's line
            where = f" {exc.field}:" if exc.field else ""
            raise UserError(f"'{spec.load.learners}'{where} {exc.message}", file=path,
                            field="load.learners", fix=exc.fix) from None
    env_file = env_override or spec.environment
    environment = load_environment(env_file)
    if environment.driver != "sandbox" and environment.endpoints is None:
        raise UserError("a game day against a non-sandbox environment needs 'endpoints' "
                        "(lms_url, cdn_url) for its load", file=env_file, field="endpoints")
    experiments = [_experiment(path, i, step) for i, step in enumerate(spec.timeline)]
    _check_expected_alerts(path, spec, experiments, catalog)
    for i, probe in enumerate(spec.abort):
        if isinstance(probe, ProbeAbort):
            _probe(path, i, probe)
    return Loaded(path, spec, env_file, environment, catalog, experiments)


def _check_timeline(path: Path, spec: GameDay) -> None:
    """Refuse a step the run could never reach, and an experiment twice (a run files its
    journal and fault window by experiment name: the second would overwrite the first)."""
    seen: dict[str, int] = {}
    for i, step in enumerate(spec.timeline):
        if spec.load.warmup_s + step.offset_s >= spec.max_duration_s:
            raise UserError(
                f"starts {spec.load.warmup_s} s (warm-up) + {step.offset_s:g} s after the load, "
                f"at or past max_duration_s ({spec.max_duration_s} s): it would never run",
                file=path, field=f"timeline.{i}.offset_s",
                fix="Move it earlier or raise max_duration_s")
        name = experiment_name(step)
        if name in seen:
            raise UserError(f"'{name}' is already in the timeline (timeline.{seen[name]}): a "
                            f"run files each experiment's journal and fault window by its "
                            f"name", file=path, field=f"timeline.{i}.experiment",
                            fix="Copy the experiment to a file of another name to run it "
                                "twice")
        seen[name] = i


def _experiment(path: Path, index: int, step: Step) -> dict:
    field = f"timeline.{index}.experiment"
    if not os.path.lexists(step.experiment):  # a symlink loop exists, and says so below
        raise UserError(f"no experiment file at '{step.experiment}'", file=path, field=field)
    try:
        return load_experiment_file(step.experiment)
    except UserError as exc:  # name the game day's field, then what is wrong with the file
        raise UserError(f"'{step.experiment}' {exc.message}", file=path, field=field) from None


def _check_expected_alerts(path: Path, spec: GameDay, experiments: list[dict],
                           catalog: Catalog) -> None:
    """Each experiment's expect_alerts names SLOs of the game day's catalog."""
    known = [slo.name for slo in catalog.slos]
    for i, (step, experiment) in enumerate(zip(spec.timeline, experiments)):
        for j, name in enumerate(experiment.get("expect_alerts", [])):
            if name not in known:
                raise UserError(f"'{step.experiment}' field 'expect_alerts.{j}': no SLO named "
                                f"'{name}' in the catalog (known: {', '.join(known)})",
                                file=path, field=f"timeline.{i}.experiment")


def _probe(path: Path, index: int, abort: ProbeAbort) -> None:
    from chaoslib.activity import ensure_activity_is_valid
    from chaoslib.exceptions import ChaosException

    try:
        ensure_activity_is_valid({"type": "probe", "name": f"abort-{index}", **abort.probe})
    except ChaosException as exc:
        raise UserError(f"not a valid Chaos Toolkit probe: {exc}", file=path,
                        field=f"abort.{index}.probe") from None
