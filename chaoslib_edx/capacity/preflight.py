"""What a capacity run checks and says before it starts, read-only: the plan as lines an
SRE can check, and the preflight (guardrails, nothing pending, the gated error budgets,
health, a login)."""

from importlib import import_module

from chaoslib.types import Configuration

from chaoslib_edx.capacity.plan import Degraded, LoadedPlan, hold_activity
from chaoslib_edx.context import run_context
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import fault as registry_fault
from chaoslib_edx.gameday.plan import login_check
from chaoslib_edx.guardrails import check_activity
from chaoslib_edx.ledger import open_ledger, recover_command
from chaoslib_edx.load.workers import describe as describe_workers
from chaoslib_edx.platforms import Platform
from chaoslib_edx.slo import gate
from chaoslib_edx.targets import check_confirmed


def checks(loaded: LoadedPlan, config: Configuration, platform: Platform
           ) -> list[tuple[str, bool, str]]:
    """Read-only: every hold through the guardrails (a refusal raises), no rollback
    pending (raises), then each held target's health, the platform's, a login."""
    # Load alone can take a platform down: production needs its confirmation, faults or not.
    check_confirmed(run_context(config))
    found = []
    for item in held(loaded):
        activity = hold_activity(item)
        target = check_activity(activity, config, None, str(loaded.path))
        entry = target.fault
        try:
            ok = bool(getattr(import_module(entry.probes_module), entry.health_probe)(
                **{entry.argument: target.name}, configuration=config))
            found.append((f"{entry.kind} '{target.name}'", ok,
                          f"{entry.health_probe}: {'yes' if ok else 'no'}"))
        except Exception as exc:  # unreachable is unhealthy, with the reason
            found.append((f"{entry.kind} '{target.name}'", False, str(exc)))
    ledger = open_ledger(config)
    if ledger.pending():
        raise UserError(f"{len(ledger.pending())} rollbacks of an earlier run are still "
                        "pending", file=ledger.where,
                        fix=f"Run `{recover_command(loaded.env_file, None)}` first")
    try:
        platform.check_ready()
        found.append((f"platform {platform.name}", True, "ready"))
    except UserError as exc:
        found.append((f"platform {platform.name}", False, str(exc)))
    found.append(login_check(loaded.spec.load.learners, platform))
    return found


def budgets(loaded: LoadedPlan, platform: Platform, ignore: list[str]) -> list[gate.Budget]:
    """The plan's gated error budgets (none without a budget_gate); bad input raises."""
    return gate.check(loaded.spec.budget_gate, loaded.catalog, loaded.spec.slos,
                      platform.server_views, ignore, loaded.path)


def held(loaded: LoadedPlan) -> list[Degraded]:
    """The degraded sweeps the plan makes."""
    return [item for item in loaded.sweeps if item is not None]


def describe(loaded: LoadedPlan) -> list[str]:
    """The plan as lines: sweeps, load, SLOs, the projected peak and each held fault."""
    spec = loaded.spec
    rates = ", ".join(f"{s.rate:g}" for s in loaded.steps)
    lines = [f"capacity plan '{spec.name}' against {loaded.environment.kind} environment "
             f"'{loaded.environment.name}' ({loaded.env_file})",
             f"sweep: {spec.sweep.kind}, {len(loaded.steps)} steps of "
             f"{loaded.curve.duration_s / len(loaded.steps):g} s at {rates} arrivals/s; "
             f"stops after {spec.sweep.stop_after_breaks} step(s) with an SLO broken",
             f"load: {spec.load.profile}, open model, pool of {loaded.pool()} sessions, "
             f"{describe_workers(spec.load.workers)}; each sweep bounded to "
             f"{spec.bounds.max_duration_s} s and {spec.bounds.max_requests} requests",
             f"SLOs: {', '.join(spec.slos)}; projected peak "
             f"{spec.projected_peak.growth:g}x {spec.projected_peak.rate:g}/s "
             f"({spec.projected_peak.label}) = {spec.projected_peak.target:g}/s",
             f"generator-bound past {spec.generator.max_cpu:.0%} of a core per Locust "
             f"process, or {spec.generator.max_late:.0%} of arrivals late or dropped"]
    if None in loaded.sweeps:
        lines.append("sweep normal: no fault")
    for item in held(loaded):
        entry = registry_fault(item.fault)
        args = ", ".join(f"{k}={v}" for k, v in hold_activity(item)["provider"]
                         ["arguments"].items()) or "defaults"
        lines.append(f"sweep {item.name}: hold {entry.actions_module}.{entry.hold}({args}) "
                     f"for the whole sweep; rollback {', '.join(entry.rollbacks)} "
                     "(in the ledger first)")
    return lines
