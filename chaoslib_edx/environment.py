"""Environment inventories (gamedays/environments/*.yaml): which platform, driver and ids.

Validated at the edge with pydantic; an error names the file and the dotted field.
"""

import ipaddress
import os
import threading
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import (
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from chaoslib_edx import faults
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import parse_yaml, read_text
from chaoslib_edx.model import Model, validation_error

MEMORY_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
REDIS_POLICIES = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                  "volatile-lfu", "volatile-random", "volatile-ttl", "noeviction")


class RedisSettings(Model):
    maxmemory: str = "64mb"
    maxmemory_policy: Literal[REDIS_POLICIES] = "allkeys-lru"  # type: ignore[valid-type]

    @field_validator("maxmemory", mode="before")
    @classmethod
    def _memory(cls, value: object) -> str:
        """A Redis size: "64mb", "1gb", or a byte count, written as a number or a string."""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{value!r} is not a size like 64mb, 1gb or a byte count")
        parse_memory(str(value))
        return str(value)


class SeedSettings(Model):
    courses: int = Field(8, ge=1, le=200)
    learners: int = Field(2000, ge=1, le=200_000)
    learner_password: str = "edx"


def user_state() -> Path:
    """Per-user state, whatever the working directory: $XDG_STATE_HOME/chaostoolkit-edx,
    else ~/.local/state/chaostoolkit-edx (the XDG base directory rule; read at each call
    so a test session, or a CI job, can give itself its own)."""
    return Path(os.environ.get("XDG_STATE_HOME") or "~/.local/state").expanduser() \
        / "chaostoolkit-edx"


class MonitoringSettings(Model):
    """Prometheus, Alertmanager, the exporters and mtail, watching the sandbox as the
    platform's own monitoring watches it; its alert rules come from the SLO catalog."""

    enabled: bool = True
    scrape_interval_s: float = Field(1, ge=0.5, le=60)
    compress_for_s: int | None = Field(
        480, ge=10, description="scale the alerting windows for a game day this long, as the "
                                "game day's evaluator does (480: the default game day's "
                                "max_duration_s); null keeps the catalog's own windows")


class SandboxSettings(Model):
    PORT_SPAN: ClassVar[int] = 30  # the sandbox listens on port_base .. port_base+29

    state_dir: str = Field(default_factory=lambda: str(user_state() / "sandbox"),
                           description="relative to the inventory file; ~ is expanded "
                                       "(default: the per-user state's sandbox/)")
    port_base: int = Field(18000, description="first of the sandbox's ports")
    zones: tuple[Literal["a", "b", "c"], ...] = Field(
        ("a", "b"), min_length=2, max_length=3,
        description="availability zones: the LMS replicas round robin over them; db-a and "
                    "redis in the first, db-b and redis-b in the second")
    lms_replicas: int = Field(3, ge=2, le=8)
    lms_threads: int = Field(8, ge=1, le=64)
    redis: RedisSettings = RedisSettings()
    seed: SeedSettings = SeedSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    login_rate_limit: bool = Field(
        False, description="enforce Open edX's login limits (100 per 5 min per IP, 30 per "
                           "account); off, so a load from one address is not throttled")

    @field_validator("zones")
    @classmethod
    def _unique_zones(cls, zones: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(zones)) != len(zones):
            raise ValueError(f"zone names must be unique: {list(zones)}")
        return zones

    @field_validator("port_base")
    @classmethod
    def _port_base(cls, value: int) -> int:
        span = cls.PORT_SPAN
        if not 1024 <= value <= 65535 - span:
            raise ValueError(f"must be between 1024 and {65535 - span} "
                             f"(the sandbox uses {span} ports from it)")
        return value


class StateSettings(Model):
    """Where the environment's lock and recovery ledger live, shared by every runner that
    acts on it. local: files (the sandbox's state dir, else the per-user state's <name>/,
    or `dir`); dynamodb: a table every CI job and pod can reach (a lease for the lock, one
    item per ledger line)."""

    backend: Literal["local", "dynamodb"] = "local"
    dir: str | None = Field(None, description="local: relative to the inventory file")
    table: str | None = Field(None, description="dynamodb: the table (key: pk, sk strings)")
    region: str | None = Field(None, description="dynamodb: default the aws section's")
    lease_s: int = Field(30, ge=5, le=3600, description="dynamodb: a lock's lease, renewed "
                                                        "every sixth of it while held")
    grace_s: int = Field(5, ge=0, le=600, description="dynamodb: how much longer than lease_s "
                         "a taker watches an unrenewed lease before it takes it over")

    @model_validator(mode="after")
    def _table(self) -> "StateSettings":
        if self.backend == "dynamodb" and not self.table:
            raise ValueError("the dynamodb backend needs a 'table'")
        return self


class HistorySettings(Model):
    """Where the history of runs is kept: SQLite in the environment's state dir unless
    `url` names another database (PostgreSQL, to share one between laptops, the CronJob
    and CI); its password from the environment variable `password_env`, never here."""

    url: str | None = Field(None, pattern=r"^(sqlite|postgresql(\+psycopg)?)://[^:@/]*(@|/)",
                            description="sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
                                        "(no password in it)")
    password_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")


class JiraSettings(Model):
    """Where `edx-gameday findings export --jira` files findings: a Jira Cloud site, its
    project and issue type; the account's email and its API token from an environment
    variable (Jira Cloud's basic authentication)."""

    url: str = Field(pattern=r"^https?://[^\s/]+(:\d+)?/?$", description="https://SITE.atlassian.net")
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,9}$", description="the project key")
    issue_type: str = Field("Task", min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    token_env: str = Field("JIRA_API_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]*$")


class Guardrails(Model):
    max_replica_share: float = Field(
        1 / 3, gt=0, lt=1, description="most of a deployment's replicas one kill may take")
    allow_actions: tuple[str, ...] = Field(
        (), description="activities outside the fault library allowed to act, by "
                        "'module:function' (python), executable path (process) or URL (http)")


def _cloud_settings(name: str, doc: str, **fixed: object) -> type[Model]:
    """A cloud section of the inventory: FIXED fields plus one mapping of targets per fault
    placed there in the registry (aws.databases, kubernetes.deployments, ...)."""
    targets = {section: (dict[str, model], {}) for section, model
               in faults.sections(name.removesuffix("Settings").lower()).items()}
    return create_model(name, __base__=Model, __doc__=doc, **fixed, **targets)


AwsSettings = _cloud_settings(
    "AwsSettings", "The AWS account's resources, by logical name.", region=(str, ...),
    profile_name=(str | None, Field(None, description="AWS profile of the credentials")),
    assume_role_arn=(str | None, Field(None, description="IAM role the faults act as")))
KubernetesSettings = _cloud_settings("KubernetesSettings", "The EKS cluster's workloads.",
                                     namespace=(str, "openedx"))


class Endpoints(Model):
    """Where a game day's load goes outside the sandbox (the sandbox derives its own)."""

    lms_url: str = Field(pattern=r"^https?://")
    cdn_url: str = Field(pattern=r"^https?://")
    course_keys: list[Annotated[str, Field(pattern=r"^course-v1:[^/+]+\+[^/+]+\+[^/?]+$")]] = \
        Field(min_length=1, description="the courses learners enroll in and study (the "
                                        "load's EDX_COURSE_KEYS, on the master and every "
                                        "worker)")
    login_limit_per_5min: int | None = Field(
        100, ge=1, description="logins the LMS allows per 5 minutes from one address (Open "
                               "edX's LOGISTRATION_RATELIMIT_RATE; null: none)")


class LoadMasterSettings(Model):
    """Where the Locust master of a run with remote workers (a game day's load.workers
    {expect: N}) listens; the workers connect to this host's address and port. Locust's
    master-worker protocol has no authentication: the master binds one address the
    workers reach, never every interface."""

    bind_host: str = Field("127.0.0.1", description="an address of the runner's host "
                                                    "(the sandbox's stays on loopback)")
    bind_host_env: str | None = Field(
        None, pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="an environment variable holding the address instead, read when the "
                    "run starts (a pod's own IP: POD_IP from the downward API)")
    port: int | None = Field(None, ge=1024, le=65535,
                             description="default: Locust's 5557; the sandbox's port_base+28")

    @field_validator("bind_host")
    @classmethod
    def _address(cls, value: str) -> str:
        return one_address(value)

    @model_validator(mode="after")
    def _one_way(self) -> "LoadMasterSettings":
        if self.bind_host_env and "bind_host" in self.model_fields_set:
            raise ValueError("give either 'bind_host' or 'bind_host_env', not both")
        return self


class ConsoleSettings(Model):
    """Where a game day's live console listens (`run --console`): loopback unless the
    inventory names another address of the runner's host (on staging, reach it through
    `kubectl port-forward` to the runner's pod instead)."""

    bind_host: str = Field("127.0.0.1", description="an address of the runner's host (the "
                                                    "sandbox's stays on loopback)")

    @field_validator("bind_host")
    @classmethod
    def _address(cls, value: str) -> str:
        return one_address(value)


def one_address(value: str) -> str:
    """VALUE if it is one IP address; ValueError for a name or every interface."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an IP address") from None
    if address.is_unspecified:
        raise ValueError(f"'{value}' binds every interface; name the one address of "
                         "this host to listen on (the load master in a pod: bind_host_env: "
                         "POD_IP)")
    return value


class PagerDutySettings(Model):
    service_id: str = Field(pattern=r"^P[A-Z0-9]{6}$", description="the service that pages")
    token_env: str = Field("PAGERDUTY_API_TOKEN",
                           description="environment variable holding a read-only REST token")
    base_url: str | None = Field(None, pattern=r"^https?://",
                                 description="default: https://api.pagerduty.com")


class AlarmSettings(Model):
    slo: str
    severity: Literal["page", "ticket"] = "page"
    runbook_url: str = Field("", pattern=r"^(https?://[^\s]+)?$",
                             description="http or https: the report makes it a link")
    alert: str | None = Field(None, description="New Relic: the name reports give its "
                                                "alerts (default: the condition's)")


class CloudWatchSettings(Model):
    alarms: dict[str, AlarmSettings] = Field(min_length=1, description="by alarm name")


class NewRelicSettings(Model):
    """A New Relic account's alert issues, read through NerdGraph: each issue a firing of
    its condition (mapped to an SLO as CloudWatch alarms are), a paging one also a page
    with its acknowledgement."""

    account_id: int = Field(ge=1, description="the account whose issues to read")
    api_key_env: str = Field("NEW_RELIC_API_KEY", pattern=r"^[A-Z_][A-Z0-9_]*$",
                             description="environment variable holding a User key (NRAK-...)")
    region: Literal["US", "EU"] = "US"
    policy_ids: list[Annotated[int, Field(ge=1)]] = Field(
        [], description="only these policies' issues (default: all of the account's)")
    conditions: dict[str, AlarmSettings] = Field(min_length=1,
                                                 description="by alert condition name")
    base_url: str | None = Field(None, pattern=r"^https?://",
                                 description="default: the region's NerdGraph endpoint")
    data_nrql: str = Field("SELECT count(*) FROM Transaction", min_length=8,
                           description="counts what the account receives: a window where it "
                                       "is 0 is one New Relic was blind in")


class DetectionSettings(Model):
    """Where a game day reads the alerts (CloudWatch alarms, New Relic issues) and pages
    (PagerDuty, New Relic) its faults set off; the sandbox reads its own Prometheus and
    pager instead, and takes only New Relic's NRQL from here (an error-budget gate's
    source)."""

    pagerduty: PagerDutySettings | None = None
    cloudwatch: CloudWatchSettings | None = None
    newrelic: NewRelicSettings | None = None


class Environment(Model):
    name: str
    kind: Literal["sandbox", "staging", "production"]
    driver: Literal[faults.PLATFORMS] = Field(  # type: ignore[valid-type]
        description="sandbox: the local platform; aws: RDS, ElastiCache, CloudFront via AWS "
                    "and LMS pods via the kubernetes section (EKS)")
    description: str = ""
    sandbox: SandboxSettings | None = None
    aws: AwsSettings | None = None  # type: ignore[valid-type]
    kubernetes: KubernetesSettings | None = None  # type: ignore[valid-type]
    endpoints: Endpoints | None = None
    load_master: LoadMasterSettings = LoadMasterSettings()
    console: ConsoleSettings = ConsoleSettings()
    history: HistorySettings = HistorySettings()
    jira: JiraSettings | None = None
    platform_version: str | None = Field(None, description="the platform's revision the runs "
                                                           "go against (kept in history)")
    guardrails: Guardrails = Guardrails()
    state: StateSettings = StateSettings()
    detection: DetectionSettings | None = None


def parse_memory(value: str) -> int:
    """Parse a Redis-style size ("64mb", "1gb", "1048576") into bytes."""
    text = str(value).strip().lower()
    for unit in sorted(MEMORY_UNITS, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * MEMORY_UNITS[unit]
    if text.isdigit():
        return int(text)
    raise ValueError(f"'{value}' is not a size like 64mb, 1gb or a byte count")


def read_yaml(path: Path, hint: str = "Pass an existing file") -> dict:
    """Read a YAML mapping, or raise a UserError naming the file."""
    data = parse_yaml(read_text(path, hint), path)
    if not isinstance(data, dict):
        raise UserError("expected a mapping at the top level", file=path)
    return data


_read: dict[tuple, Environment] = {}  # each version of an inventory file, read once
_read_lock = threading.Lock()


def load_environment(path: str | Path) -> Environment:
    """Load and validate an environment inventory file, once per version of the file (its
    path, size and change times): every layer of a run asks, the file is read once. The
    models are frozen, so sharing them is safe."""
    path = Path(path)
    try:
        stat = path.stat()
        version = (str(path.absolute()), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
                   stat.st_ino)
    except OSError:
        return _load_environment(path)  # missing or unreadable: it says so, naming the file
    with _read_lock:
        if version not in _read:
            _read[version] = _load_environment(path)
        return _read[version]


def _load_environment(path: Path) -> Environment:
    try:
        env = Environment.model_validate(read_yaml(
            path, "Pass an existing inventory, such as gamedays/environments/sandbox.yaml"))
    except ValidationError as err:
        raise validation_error(path, err) from None
    if env.driver == "sandbox" and env.sandbox is None:
        raise UserError("the sandbox driver needs a 'sandbox' section", file=path,
                        field="sandbox")
    master = env.load_master
    if env.driver == "sandbox" and (master.bind_host_env or
                                    not ipaddress.ip_address(master.bind_host).is_loopback):
        field = "bind_host_env" if master.bind_host_env else "bind_host"
        raise UserError(f"the sandbox's load stays on loopback; {getattr(master, field)} is "
                        "not", file=path, field=f"load_master.{field}",
                        fix="Use 127.0.0.1, or an environment of another driver")
    if env.driver == "sandbox" and not ipaddress.ip_address(env.console.bind_host).is_loopback:
        raise UserError(f"the sandbox's console stays on loopback; {env.console.bind_host} is "
                        "not", file=path, field="console.bind_host",
                        fix="Use 127.0.0.1, or an environment of another driver")
    if env.driver == "aws" and env.aws is None:
        raise UserError("the aws driver needs an 'aws' section", file=path, field="aws")
    return env
