"""Environment inventories (gamedays/environments/*.yaml): which platform, driver and ids.

Validated at the edge with pydantic; an error names the file and the dotted field.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chaoslib_edx.errors import UserError

MEMORY_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
REDIS_POLICIES = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
                  "volatile-lfu", "volatile-random", "volatile-ttl", "noeviction")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RedisSettings(_Model):
    maxmemory: str = "64mb"
    maxmemory_policy: Literal[REDIS_POLICIES] = "allkeys-lru"  # type: ignore[valid-type]

    @field_validator("maxmemory")
    @classmethod
    def _memory(cls, value: str) -> str:
        parse_memory(value)
        return value


class SeedSettings(_Model):
    courses: int = Field(8, ge=1, le=200)
    learners: int = Field(2000, ge=1, le=200_000)
    learner_password: str = "edx"


class SandboxSettings(_Model):
    state_dir: str = ".sandbox"
    port_base: int = Field(18000, description="first of the sandbox's ports")
    lms_replicas: int = Field(3, ge=2, le=8)
    lms_threads: int = Field(8, ge=1, le=64)
    redis: RedisSettings = RedisSettings()
    seed: SeedSettings = SeedSettings()

    @field_validator("port_base")
    @classmethod
    def _port_base(cls, value: int) -> int:
        from chaoslib_edx.sandbox.layout import PORT_SPAN

        if not 1024 <= value <= 65535 - PORT_SPAN:
            raise ValueError(f"must be between 1024 and {65535 - PORT_SPAN} "
                             f"(the sandbox uses {PORT_SPAN} ports from it)")
        return value


class Guardrails(_Model):
    max_replica_share: float = Field(1 / 3, gt=0, lt=1,
                                     description="most of a deployment's replicas one kill may take")


class AwsDatabase(_Model):
    instance: str | None = None   # RDS Multi-AZ instance id: reboot with force failover
    cluster: str | None = None    # Aurora cluster id: failover_db_cluster
    target_instance: str | None = None  # Aurora reader to promote (optional)

    @model_validator(mode="after")
    def _one(self) -> "AwsDatabase":
        if bool(self.instance) == bool(self.cluster):
            raise ValueError("give exactly one of 'instance' or 'cluster'")
        return self


class AwsCache(_Model):
    replication_group: str


class AwsDistribution(_Model):
    id: str
    origin_id: str  # the S3/custom origin whose loss is the fault


class AwsSettings(_Model):
    region: str
    databases: dict[str, AwsDatabase] = {}
    caches: dict[str, AwsCache] = {}
    distributions: dict[str, AwsDistribution] = {}


class KubernetesDeployment(_Model):
    name: str
    label_selector: str


class KubernetesSettings(_Model):
    namespace: str = "openedx"
    deployments: dict[str, KubernetesDeployment] = {}


class Endpoints(_Model):
    """Where a game day's load goes outside the sandbox (the sandbox derives its own)."""

    lms_url: str = Field(pattern=r"^https?://")
    cdn_url: str = Field(pattern=r"^https?://")


class Environment(_Model):
    name: str
    kind: Literal["sandbox", "staging", "production"]
    driver: Literal["sandbox", "aws"] = Field(
        description="sandbox: the local platform; aws: RDS, ElastiCache, CloudFront via AWS "
                    "and LMS pods via the kubernetes section (EKS)")
    description: str = ""
    sandbox: SandboxSettings | None = None
    aws: AwsSettings | None = None
    kubernetes: KubernetesSettings | None = None
    endpoints: Endpoints | None = None
    guardrails: Guardrails = Guardrails()


def parse_memory(value: str) -> int:
    """Parse a Redis-style size ("64mb", "1gb", "1048576") into bytes."""
    text = str(value).strip().lower()
    for unit in sorted(MEMORY_UNITS, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * MEMORY_UNITS[unit]
    if text.isdigit():
        return int(text)
    raise ValueError(f"'{value}' is not a size like 64mb, 1gb or a byte count")


def validation_error(path: Path | str, err: ValidationError) -> UserError:
    """Turn pydantic's first error into a one-paragraph UserError naming the dotted field."""
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field (check its spelling and indentation)"
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return UserError(message, file=path, field=field,
                     fix="Fix the file and run the command again; nothing was changed")


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping, or raise a UserError naming the file."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UserError("file not found", file=path,
                        fix="Pass an existing file or one of gamedays/environments/") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}",
                        file=path) from None
    if not isinstance(data, dict):
        raise UserError("expected a mapping at the top level", file=path)
    return data


def load_environment(path: str | Path) -> Environment:
    """Load and validate an environment inventory file."""
    path = Path(path)
    try:
        env = Environment.model_validate(read_yaml(path))
    except ValidationError as err:
        raise validation_error(path, err) from None
    if env.driver == "sandbox" and env.sandbox is None:
        raise UserError("the sandbox driver needs a 'sandbox' section", file=path,
                        field="sandbox")
    if env.driver == "aws" and env.aws is None:
        raise UserError("the aws driver needs an 'aws' section", file=path, field="aws")
    return env
