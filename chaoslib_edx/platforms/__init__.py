"""Platform adapters: everything the generic layers need to know about where a game day
runs (target specs, the load's URLs and environment, readiness), behind one interface.

Picked once from the environment's `driver`, as Locust picks its runner from the
options; targets, the runner and the load control ask the adapter and never import the
sandbox themselves.
"""

import os
from abc import ABC, abstractmethod
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from chaoslib_edx.environment import Environment, one_address, user_state
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import Fault
from chaoslib_edx.load.workers import LOCUST_MASTER_PORT

if TYPE_CHECKING:
    from chaoslib_edx.detection.source import DetectionSource, ServerView
    from chaoslib_edx.history.store import History

# environment driver -> "module:class" of its adapter, imported only when used.
# A run's live console where the game day names no port: the one after Locust's web UI.
CONSOLE_PORT = 8090
ADAPTERS = {"sandbox": "chaoslib_edx.platforms.sandbox:SandboxPlatform",
            "aws": "chaoslib_edx.platforms.cloud:CloudPlatform"}


class UnknownTarget(LookupError):
    """A fault names a target the inventory does not list."""

    def __init__(self, field: str, known: list[str]) -> None:
        super().__init__(field)
        self.field, self.known = field, known


class Platform(ABC):
    """One environment's platform, as the generic layers see it."""

    def __init__(self, environment: Environment, env_file: str) -> None:
        self.environment, self.env_file = environment, env_file

    @property
    def name(self) -> str:
        return self.environment.driver

    @property
    def loopback_only(self) -> bool:
        """Whether the load must stay on 127.0.0.1 (the sandbox does)."""
        return False

    @abstractmethod
    def target_spec(self, fault: Fault, name: str) -> object:
        """What FAULT's driver needs to act on target NAME, or UnknownTarget."""

    @abstractmethod
    def lms_url(self) -> str:
        """Where the load sends learners (the LMS behind its load balancer)."""

    @abstractmethod
    def load_environment(self) -> dict[str, str]:
        """The EDX_* variables the load profiles read (CDN URL, seed sizes, password)."""

    @abstractmethod
    def login_limit(self) -> int | None:
        """Logins per 5 minutes from one address the LMS allows (None: not limited)."""

    def load_master(self) -> tuple[str, int]:
        """Where a run's Locust master listens for remote workers (host, port): the
        inventory's address, or the one its bind_host_env names now (UserError if none)."""
        settings = self.environment.load_master
        host = settings.bind_host
        if settings.bind_host_env:
            host = os.environ.get(settings.bind_host_env, "")
            try:
                one_address(host)
            except ValueError as exc:
                raise UserError(f"${settings.bind_host_env}: {exc}", file=self.env_file,
                                field="load_master.bind_host_env",
                                fix="Set it to this host's address (a pod: the downward "
                                    "API's status.podIP)") from None
        return host, settings.port or self.default_master_port()

    def default_master_port(self) -> int:
        return LOCUST_MASTER_PORT

    def console_address(self, port: int | None) -> tuple[str, int]:
        """Where a run's live console listens: the inventory's console.bind_host (loopback
        by default) and PORT, else the platform's default port."""
        return self.environment.console.bind_host, port or self.default_console_port()

    def default_console_port(self) -> int:
        return CONSOLE_PORT

    def history(self) -> "History":
        """The environment's history of runs, its schema brought up to date."""
        from chaoslib_edx.history.store import open_history

        settings = self.environment.history
        try:
            return open_history(settings.url, settings.password_env, self.state_dir())
        except UserError as exc:
            raise UserError(exc.message, file=self.env_file, field=exc.field,
                            fix=exc.fix) from None

    def check_ready(self) -> None:
        """Raise UserError when the platform cannot take a game day now."""

    def detection(self) -> "DetectionSource | None":
        """Where the platform's alerts and pages are read (None: it has no monitoring)."""
        return None

    def server_views(self) -> "dict[str, ServerView]":
        """The monitoring systems that can say what the servers saw of an SLO, by name
        (prometheus, newrelic, cloudwatch): the error-budget gate's sources. Here: the
        detection source's (the sandbox's Prometheus), and New Relic's NRQL when the
        inventory names an account."""
        source = self.detection()
        return {**(source.views if source is not None else {}), **self.newrelic_view()}

    def newrelic_view(self) -> "dict[str, ServerView]":
        """{'newrelic': the account's issues and NRQL} when detection.newrelic is set."""
        from chaoslib_edx.detection.newrelic import NewRelicIssues

        detection = self.environment.detection
        settings = detection.newrelic if detection is not None else None
        if settings is None:
            return {}
        key = os.environ.get(settings.api_key_env)
        if not key:
            raise UserError(f"New Relic needs a User API key in the environment variable "
                            f"{settings.api_key_env}, which is not set", file=self.env_file,
                            field="detection.newrelic.api_key_env",
                            fix="Export it (a key of a user who may read the account)")
        return {"newrelic": NewRelicIssues(key, settings.account_id, {
            name: (c.slo, c.severity, c.runbook_url, c.alert or name)
            for name, c in settings.conditions.items()},
            self.env_file, settings.region, settings.policy_ids, settings.base_url,
            settings.data_nrql)}

    def components(self) -> dict[str, list[int]]:
        """Component -> pids of its processes on this machine, for a capacity sweep's
        saturation (none where the platform runs elsewhere)."""
        return {}

    def saturation_series(self, start: float, end: float) -> dict[str, list[list[float]]]:
        """The platform's own saturation series over [START, END] (name -> [t, value])."""
        return {}

    def acknowledge(self, by: str) -> tuple[list[str], int]:
        """Acknowledge every open page as BY; the dedup keys taken, and how many lines of
        the pager's log could not be read (skipped, counted)."""
        raise UserError(f"the {self.name} platform's pages are acknowledged in the pager's own "
                        "app (PagerDuty), not here", file=self.env_file, field="driver")

    def state_dir(self) -> Path:
        """Where this environment's local lock, ledger and load pidfile live: the
        inventory's state.dir (relative to the inventory file), else per user and name."""
        configured = self.environment.state.dir
        if configured:
            path = Path(configured).expanduser()
            return path if path.is_absolute() else Path(self.env_file).absolute().parent / path
        return user_state() / self.environment.name


def platform(environment: Environment, env_file: str) -> Platform:
    """The adapter of ENVIRONMENT's driver."""
    module, cls = ADAPTERS[environment.driver].split(":")
    return getattr(import_module(module), cls)(environment, env_file)
