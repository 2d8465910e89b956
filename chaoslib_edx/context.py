"""The run context: what a run (a game day, a capacity run, a plain `chaos run`) acts on,
built from its Chaos Toolkit configuration once and cached per process (per settings,
and per version of the inventory file: environment.load_environment reads each once).

Activities keep Chaos Toolkit's signature (`configuration`, `secrets`); `run_context`
is the one place where that dict becomes typed settings, the environment inventory and
the platform adapter. Each of our settings is a configuration key with an environment
variable twin (EDX_...), so a plain `chaos run` can be pointed at an environment without
editing the experiment; `setting` alone reads them. Objects that belong to a run (its
ledger) are kept on its context with `memo`.
"""

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TypeVar

from chaoslib_edx.environment import Environment, load_environment
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import default_file
from chaoslib_edx.platforms import Platform, platform
from chaoslib_edx.slo.catalog import DEFAULT_CATALOG

T = TypeVar("T")

ENV_KEY, CONFIRM_KEY, LEDGER_KEY = "edx_environment", "edx_confirm_production", "edx_ledger"
METRICS_KEY, CATALOG_KEY, LOAD_KEY = "edx_metrics_file", "edx_slo_catalog", "edx_load"
DEFAULT_ENVIRONMENT = "gamedays/environments/sandbox.yaml"
# chaosaws' own keys: read from the configuration only, as chaosaws reads them.
NO_TWIN = frozenset({"aws_profile_name", "aws_assume_role_arn", "aws_assume_role_session_name"})


def setting(configuration: dict | None, key: str) -> str | None:
    """KEY from the configuration, else its environment variable (EDX_...), else None."""
    value = (configuration or {}).get(key)
    if not value and key not in NO_TWIN:
        value = os.environ.get(key.upper())
    return str(value) if value else None


def _int(configuration: dict | None, key: str, default: int) -> int:
    text = setting(configuration, key)
    try:
        return int(text) if text is not None else default
    except ValueError:
        raise UserError(f"'{text}' is not a whole number", field=f"configuration.{key}",
                        fix=f"Set {key} (or {key.upper()}) to a number of "
                            f"{'learners' if key.endswith('users') else 'seconds'}") from None


@dataclass(frozen=True)
class Settings:
    """Our configuration keys, typed (defaults as a plain `chaos run` needs them)."""

    environment: str             # edx_environment: the inventory file
    confirm_production: str | None = None   # edx_confirm_production: the production env
    ledger: str | None = None    # edx_ledger: a ledger file instead of the environment's
    metrics_file: str | None = None  # edx_metrics_file: the load's per-second metrics
    slo_catalog: str = ""        # edx_slo_catalog (default: gamedays/slos.yaml or shipped)
    load: str = "control"        # edx_load: control (the load control runs load) | external
    load_users: int = 20         # edx_load_users, _seconds, _warmup_seconds: that load's
    load_seconds: int = 180
    load_warmup_seconds: int = 12
    aws_profile_name: str | None = None   # chaosaws' keys, over the inventory's aws section
    aws_assume_role_arn: str | None = None
    aws_assume_role_session_name: str | None = None

    @classmethod
    def of(cls, configuration: dict | None) -> "Settings":
        configured = setting(configuration, ENV_KEY) or DEFAULT_ENVIRONMENT
        load = setting(configuration, LOAD_KEY) or "control"
        if load not in ("control", "external"):
            raise UserError(f"'{load}' is not a load mode (control or external)",
                            field=f"configuration.{LOAD_KEY}")
        texts = {f.name: setting(configuration, f.name) for f in fields(cls)
                 if f.name.startswith("aws_")}
        return cls(
            environment=str(default_file(configured)) if configured == DEFAULT_ENVIRONMENT
            else configured,
            confirm_production=setting(configuration, CONFIRM_KEY),
            ledger=setting(configuration, LEDGER_KEY),
            metrics_file=setting(configuration, METRICS_KEY),
            slo_catalog=setting(configuration, CATALOG_KEY) or str(default_file(DEFAULT_CATALOG)),
            load=load, load_users=_int(configuration, "edx_load_users", 20),
            load_seconds=_int(configuration, "edx_load_seconds", 180),
            load_warmup_seconds=_int(configuration, "edx_load_warmup_seconds", 12), **texts)


@dataclass(frozen=True, eq=False)
class RunContext:
    """One run's settings, inventory and platform; `memo` keeps what else is the run's."""

    settings: Settings
    environment: Environment
    _memo: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def env_file(self) -> str:
        return self.settings.environment

    @property
    def configuration(self) -> dict:
        """A Chaos Toolkit configuration that describes this run (for activities called
        outside `chaos run`: recover's rollbacks)."""
        keys = {"environment": ENV_KEY, "confirm_production": CONFIRM_KEY,
                "ledger": LEDGER_KEY, "metrics_file": METRICS_KEY}
        return {keys[name]: value for name, value in
                ((name, getattr(self.settings, name)) for name in keys) if value}

    @cached_property
    def platform(self) -> Platform:
        return platform(self.environment, self.env_file)

    def memo(self, key: object, make: Callable[[], T]) -> T:
        """The run's object KEY, made by MAKE the first time it is asked for."""
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]


_contexts: dict[Settings, RunContext] = {}
_contexts_lock = threading.Lock()


def run_context(configuration: dict | None) -> RunContext:
    """The context of the run CONFIGURATION describes (the same one for the same settings
    and inventory file)."""
    settings = Settings.of(configuration)
    environment = load_environment(settings.environment)  # read once per file version
    with _contexts_lock:
        found = _contexts.get(settings)
        if found is None or found.environment is not environment:  # the file changed
            found = _contexts[settings] = RunContext(settings, environment)
        return found


def environment_context(env_file: str, ledger: str | None = None) -> RunContext:
    """The context of the inventory ENV_FILE (the default one falls back to the shipped),
    as the commands that take --env (and recover's --ledger) build it."""
    return run_context({ENV_KEY: env_file, **({LEDGER_KEY: ledger} if ledger else {})})
