"""Resolve an activity's logical target (database "edxapp", deployment "lms", ...) through
the environment inventory and the platform adapter, refusing what the guardrails forbid."""

from dataclasses import dataclass
from importlib import import_module

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Secrets

from chaoslib_edx.context import CONFIRM_KEY, RunContext, run_context
from chaoslib_edx.environment import Environment
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import Fault, fault
from chaoslib_edx.platforms import UnknownTarget


class GuardrailRefused(UserError, InterruptExecution):
    """A fault refused before acting: nothing was changed. Interrupts a `chaos run`."""


@dataclass(frozen=True)
class Target:
    environment: Environment
    env_file: str
    fault: Fault
    name: str          # the logical name in the inventory
    driver: str        # the driver module acting on it: sandbox | aws | kubernetes
    spec: object       # what the platform adapter gives that driver (sandbox: its Layout)
    configuration: Configuration | None = None  # the activity's (AWS profile and role...)

    @property
    def kind(self) -> str:
        return self.fault.kind

    def drive(self, func: str, secrets: Secrets | None, **arguments: object) -> object:
        """Call FUNC of this target's driver module (<fault package>.<driver>.FUNC)."""
        module = import_module(f"chaoslib_edx.{self.fault.package}.{self.driver}")
        return getattr(module, func)(self, secrets=secrets, **arguments)


def check_confirmed(context: RunContext) -> None:
    """GuardrailRefused unless the run's environment is not production, or the run was
    confirmed for it."""
    env = context.environment
    if env.kind == "production" and context.settings.confirm_production != env.name:
        raise GuardrailRefused(
            f"'{env.name}' is a production environment and the run was not confirmed for it",
            file=context.env_file, field="kind",
            fix=f"Set configuration {CONFIRM_KEY}: {env.name} (or EDX_CONFIRM_PRODUCTION="
                f"{env.name}, or --confirm-production {env.name}) to confirm, after "
                f"checking the blast radius")


def resolve(kind: str, name: str, configuration: Configuration | None) -> Target:
    """The target KIND/NAME of the configured environment, or a GuardrailRefused."""
    context = run_context(configuration)
    check_confirmed(context)
    env, path = context.environment, context.env_file
    entry = fault(kind)
    try:
        spec = context.platform.target_spec(entry, name)
    except UnknownTarget as unknown:
        raise GuardrailRefused(
            f"the {kind} '{name}' is not in the environment inventory (known: "
            f"{', '.join(unknown.known) or 'none'})", file=path, field=unknown.field,
            fix="Faults only touch targets the inventory lists; add it there or fix the "
                "experiment's argument") from None
    return Target(env, path, entry, name, entry.placements[env.driver].driver, spec,
                  configuration)
