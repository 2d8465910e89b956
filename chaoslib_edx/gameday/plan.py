"""What a game day will do, checked before it does anything: each experiment's faults with
their targets (through the guardrails), its rollbacks, and the health of every target.

`--dry-run` prints this and stops; a real run passes the same preflight first.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from chaoslib.types import Configuration

from chaoslib_edx import learner
from chaoslib_edx.lease import environment_lease
from chaoslib_edx.lease.base import Say
from chaoslib_edx.context import (
    CATALOG_KEY,
    CONFIRM_KEY,
    ENV_KEY,
    LOAD_KEY,
    METRICS_KEY,
    run_context,
)
from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.schema import Loaded, Step, experiment_name
from chaoslib_edx.guardrails import check_activity
from chaoslib_edx.ledger import open_ledger, recover_command
from chaoslib_edx.load import workers
from chaoslib_edx.load.learners import (
    ARRIVALS_PER_USER_S,
    learners_from_env,
    read_learners,
)
from chaoslib_edx.platforms import Platform
from chaoslib_edx.slo import gate
from chaoslib_edx.targets import Target


@dataclass
class Action:
    activity: str
    function: str       # module.func
    target: Target


@dataclass
class PlannedStep:
    step: Step
    name: str
    title: str
    experiment: dict
    configuration: Configuration
    actions: list[Action]
    rollbacks: list[str]  # "activity name (module.func)"


def overrides(gameday: Loaded, metrics: Path | str, confirm: str | None) -> dict:
    """Configuration the runner imposes on every experiment: one load, one environment."""
    values = {ENV_KEY: gameday.env_file, METRICS_KEY: str(metrics), LOAD_KEY: "external",
              CATALOG_KEY: gameday.spec.slo_catalog}
    if confirm:
        values[CONFIRM_KEY] = confirm
    return values


def _function(activity: dict) -> str:
    provider = activity.get("provider", {})
    return f"{provider.get('module', provider.get('url', '?'))}.{provider.get('func', '')}"


def build(gameday: Loaded, config_overrides: dict) -> list[PlannedStep]:
    """Every step with its actions and targets; a guardrail refusal raises (exit 2)."""
    from chaoslib.configuration import load_configuration

    planned = []
    for step, declared in gameday.steps():
        # Plain values in the experiment itself: chaoslib's extra_vars would drop keys the
        # experiment does not declare (and empties the dict it is given).
        experiment = {**declared, "configuration": {**declared.get("configuration", {}),
                                                    **config_overrides}}
        configuration = load_configuration(experiment["configuration"])
        actions = []
        for activity in experiment.get("method", []):
            target = check_activity(activity, configuration, None, str(step.experiment))
            if target is not None and activity.get("type") == "action":
                actions.append(Action(activity.get("name", "?"), _function(activity), target))
        for activity in experiment.get("rollbacks", []):
            check_activity(activity, configuration, None, str(step.experiment))
        rollbacks = [f"{a.get('name', '?')} ({_function(a)})"
                     for a in experiment.get("rollbacks", [])]
        planned.append(PlannedStep(step, experiment_name(step), experiment["title"], experiment,
                                   configuration, actions, rollbacks))
    return planned


def describe(gameday: Loaded, plan: list[PlannedStep]) -> list[str]:
    """The plan as lines an SRE can check before saying go."""
    spec, env = gameday.spec, gameday.environment
    shape = spec.load.shape
    lines = [f"game day '{spec.name}' against {env.kind} environment '{env.name}' "
             f"({gameday.env_file}, driver {env.driver})",
             f"load: {spec.load.profile}, {shape.baseline_users} to {shape.peak_users} learners"
             f" (time scale {shape.time_scale:g}), {workers.describe(spec.load.workers)}, "
             f"{spec.load.warmup_s} s warm-up; hard stop after {spec.max_duration_s} s",
             f"SLOs watched: {', '.join(spec.slos)}"]
    for index, cond in enumerate(spec.abort):
        what = (f"{cond.slo} alerting rule '{cond.rule}' (windows scaled to the game day)"
                if getattr(cond, "rule", None) else
                f"{cond.slo} burn rate > {cond.burn_rate_above:g}x over {cond.window_seconds} s"
                if hasattr(cond, "slo") else
                f"probe {cond.probe.get('provider', {}).get('func', '?')} outside "
                f"{cond.tolerance!r}, every {cond.every_seconds:g} s")
        lines.append(f"abort {index}: {what}")
    for item in plan:
        lines.append(f"+{item.step.offset_s:>5.0f}s  {item.name}: {item.title}")
        for action in item.actions:
            t = action.target
            lines.append(f"          action   {action.activity} -> {action.function} on "
                         f"{t.kind} '{t.name}' via {t.driver}")
        for rollback in item.rollbacks:
            lines.append(f"          rollback {rollback}")
        lines.append(f"          then observe {item.step.observe_s:.0f} s")
    lines.append("every fault records its rollback in the recovery ledger before it acts")
    return lines


def health(plan: list[PlannedStep]) -> list[tuple[str, bool, str]]:
    """Each distinct target's health probe: (target, healthy, detail). Read-only."""
    results, seen = [], set()
    for item in plan:
        for action in item.actions:
            key = (action.target.kind, action.target.name)
            if key in seen:
                continue
            seen.add(key)
            fault = action.target.fault
            func = fault.health_probe
            label = f"{fault.kind} '{action.target.name}'"
            try:
                ok = bool(getattr(import_module(fault.probes_module), func)(
                    **{fault.argument: action.target.name}, configuration=item.configuration))
                results.append((label, ok, f"{func}: {'yes' if ok else 'no'}"))
            except Exception as exc:  # unreachable is unhealthy, with the reason
                results.append((label, False, f"{func}: {exc}"))
    return results


def preflight(gameday: Loaded, config: Configuration, target: Platform,
              ignore_gate: list[str] = ()
              ) -> tuple[list[PlannedStep], list[tuple[str, bool, str]], list[gate.Budget]]:
    """What a run checks before it starts: guardrails (a refusal raises), no rollback
    pending (raises), the gated error budgets, the health of every target and of the
    platform. Read-only."""
    plan = build(gameday, config)
    ledger = open_ledger(config)
    pending = ledger.pending()
    if pending:
        command = recover_command(gameday.env_file, run_context(config).settings.ledger)
        raise UserError(f"{len(pending)} rollbacks of an earlier run are still pending "
                        f"({', '.join(e.rollback for e in pending)})", file=ledger.where,
                        fix=f"Run `{command}` first")
    detection = target.detection()  # its settings are bad input: exit 2, not ill health
    if detection is not None:
        detection.check()
    spec = gameday.spec
    budgets = gate.check(spec.budget_gate, gameday.catalog, spec.slos, target.server_views,
                         list(ignore_gate), gameday.path)
    # The targets' probes and the platform's status side by side: each read is bounded,
    # and a frozen dependency then costs one timeout, not the sum of them.
    with ThreadPoolExecutor(2) as pool:
        probes, ready = pool.submit(health, plan), pool.submit(_ready, target)
        checks = [*probes.result(), ready.result()]
    return plan, checks, budgets


def _ready(target: Platform) -> tuple[str, bool, str]:
    try:
        target.check_ready()
        return (f"platform {target.name}", True, "ready")
    except UserError as exc:
        return (f"platform {target.name}", False, str(exc))


def dry_run(gameday: Loaded, config: Configuration, target: Platform,
            say: Say | None = None, ignore_gate: list[str] = ()) -> tuple[list[str], bool]:
    """The plan and the preflight as lines, and whether a run would start. Probes the
    environment's lease without taking it (SAY hears of a wait); refusals raise as they
    would for a run, but a spent budget is printed with the rest."""
    held = environment_lease(config).probe(say)
    with ThreadPoolExecutor(1) as pool:  # the sign-in while the preflight reads the rest
        login = pool.submit(login_check, gameday.spec.load.learners, target)
        plan, checks, budgets = preflight(gameday, config, target, ignore_gate)
        checks.append(login.result())
    lines = [*describe(gameday, plan), held,
             *gate.lines(gameday.spec.budget_gate, budgets, "game day")]
    lines += [f"health: {label:<22} {'ok' if ok else 'NOT HEALTHY'} ({detail})"
              for label, ok, detail in checks]
    lines += _login_rate(gameday, target)
    if isinstance(gameday.spec.load.workers, workers.RemoteWorkers):
        host, port = target.load_master()
        lines.append(f"workers: the master would listen on {host}:{port} (load_master); start "
                     f"the workers with --master-host/--master-port of that address")
    lines.append(f"dry run: nothing was started or changed; load would go to "
                 f"{target.lms_url()}")
    return lines, all(ok for _, ok, _ in checks) and all(b.passed or b.ignored
                                                          for b in budgets)


def login_check(learners: str | None, target: Platform) -> tuple[str, bool, str]:
    """The load's first learner (from LEARNERS, a CSV, else the platform's) signs in on
    the target, as the load will: a preflight check of game days and capacity sweeps."""
    first = (read_learners(learners) if learners else
             learners_from_env({**os.environ, **target.load_environment()}))[0]
    try:
        learner.login(target.lms_url(), first.username, first.password)
        return (f"login as {first.username}", True, "signed in")
    except learner.LoginFailed as exc:
        return (f"login as {first.username}", False, str(exc))


def _login_rate(gameday: Loaded, target: Platform) -> list[str]:
    """A warning when the load's sign-ins would pass the LMS's login limit: every learner
    signs in as it starts, and seats change hands all through the run."""
    limit = target.login_limit()
    peak = gameday.spec.load.shape.peak_users
    planned = round(peak * (1 + ARRIVALS_PER_USER_S * learner.LOGIN_WINDOW_S))
    if limit is None or planned <= limit:
        return []
    return [f"warning: about {planned} logins in the busiest 5 minutes ({peak} learners "
            f"signing in, then new ones taking their seats) exceed the {limit} per 5 minutes "
            f"the LMS allows from one address ({gameday.env_file}): expect 429s, or lower "
            f"load.shape.peak_users"]


def checked(gameday: Loaded, config: Configuration, target: Platform,
            ignore_gate: list[str] = ()) -> tuple[list[PlannedStep], list[gate.Budget]]:
    """The plan of a run about to start and its gated budgets: the preflight, every budget
    above the gate (or passed by name), every target healthy, or UserError."""
    plan, checks, budgets = preflight(gameday, config, target, ignore_gate)
    gate.enforce(gameday.spec.budget_gate, budgets, "game day", gameday.path)
    unhealthy = [f"{label} ({detail})" for label, ok, detail in checks if not ok]
    if unhealthy:
        raise UserError(f"targets are not healthy before the game day: "
                        f"{'; '.join(unhealthy)}", file=gameday.env_file,
                        fix="Bring them back first (sandbox: `edx-gameday sandbox up`)")
    return plan, budgets
