"""Resolve an activity's logical target (database "edxapp", deployment "lms", ...) through
the environment inventory, with the guardrails every fault passes before it acts."""

import os
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Secrets

from chaoslib_edx.environment import Environment, load_environment
from chaoslib_edx.errors import UserError
from chaoslib_edx.sandbox.layout import Layout

ENV_KEY, CONFIRM_KEY = "edx_environment", "edx_confirm_production"
DEFAULT_ENVIRONMENT = "gamedays/environments/sandbox.yaml"
# The sandbox has one of each resource, under these logical names.
SANDBOX_TARGETS = {"database": "edxapp", "cache": "sessions", "pods": "lms", "cdn": "video"}
_AWS_SECTIONS = {"database": "databases", "cache": "caches", "cdn": "distributions"}
_PACKAGES = {"database": "rds", "cache": "cache", "pods": "pods", "cdn": "cdn"}


class GuardrailRefused(UserError, InterruptExecution):
    """A fault refused before acting: nothing was changed. Interrupts a `chaos run`."""


@dataclass(frozen=True)
class Target:
    environment: Environment
    env_file: str
    kind: str          # database | cache | pods | cdn
    name: str          # the logical name in the inventory
    driver: str        # sandbox | aws | kubernetes
    spec: object       # the inventory entry (sandbox: the Layout)

    @property
    def layout(self) -> Layout:
        return self.spec  # type: ignore[return-value]

    def drive(self, func: str, secrets: Secrets | None, **arguments: object) -> object:
        """Call FUNC of this target's driver (e.g. chaoslib_edx.rds.sandbox.failover)."""
        module = import_module(f"chaoslib_edx.{_PACKAGES[self.kind]}.{self.driver}")
        return getattr(module, func)(self, secrets=secrets, **arguments)


def environment_file(configuration: Configuration | None) -> str:
    return str((configuration or {}).get(ENV_KEY) or os.environ.get("EDX_ENVIRONMENT")
               or DEFAULT_ENVIRONMENT)


def resolve(kind: str, name: str, configuration: Configuration | None) -> Target:
    """The target KIND/NAME of the configured environment, or a GuardrailRefused."""
    path = environment_file(configuration)
    env = load_environment(path)
    confirmed = (configuration or {}).get(CONFIRM_KEY) or os.environ.get("EDX_CONFIRM_PRODUCTION")
    if env.kind == "production" and confirmed != env.name:
        raise GuardrailRefused(
            f"'{env.name}' is a production environment and the run was not confirmed for it",
            file=path, field="kind",
            fix=f"Set configuration {CONFIRM_KEY}: {env.name} (or EDX_CONFIRM_PRODUCTION="
                f"{env.name}) to confirm, after checking the blast radius")
    if env.driver == "sandbox":
        if SANDBOX_TARGETS[kind] != name:
            raise _unknown(kind, name, path, "sandbox", [SANDBOX_TARGETS[kind]])
        layout = Layout.from_settings(env.sandbox, Path.cwd())
        return Target(env, path, kind, name, "sandbox", layout)
    if kind == "pods":
        deployments = env.kubernetes.deployments if env.kubernetes else {}
        if name not in deployments:
            raise _unknown(kind, name, path, "kubernetes.deployments", list(deployments))
        return Target(env, path, kind, name, "kubernetes", deployments[name])
    entries = getattr(env.aws, _AWS_SECTIONS[kind])
    if name not in entries:
        raise _unknown(kind, name, path, f"aws.{_AWS_SECTIONS[kind]}", list(entries))
    return Target(env, path, kind, name, "aws", entries[name])


def _unknown(kind: str, name: str, path: str, field: str, known: list[str]) -> GuardrailRefused:
    return GuardrailRefused(f"the {kind} '{name}' is not in the environment inventory "
                            f"(known: {', '.join(known) or 'none'})", file=path, field=field,
                            fix="Faults only touch targets the inventory lists; add it there "
                                "or fix the experiment's argument")
