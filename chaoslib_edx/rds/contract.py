"""What every database driver provides, and what a cloud inventory says of a database."""

from typing import TYPE_CHECKING, Protocol, TypedDict

from pydantic import model_validator

from chaoslib_edx.model import Model

if TYPE_CHECKING:
    from chaoslib.types import Secrets

    from chaoslib_edx.targets import Target


class FailoverResult(TypedDict):
    primary_before: str
    primary_after: str | None            # None: the platform completes the failover later
    write_outage_seconds: float | None   # None: the driver cannot see it (the load does)
    status: str


class RestoreResult(TypedDict):
    primary: str
    was_primary: str | None              # None: the platform does not fail back
    status: str


class DatabaseDriver(Protocol):
    def failover(self, target: "Target", *, secrets: "Secrets | None",
                 downtime_seconds: float) -> FailoverResult: ...

    def restore(self, target: "Target", *, secrets: "Secrets | None") -> RestoreResult: ...

    def writable(self, target: "Target", *, secrets: "Secrets | None") -> bool: ...

    def primary(self, target: "Target", *, secrets: "Secrets | None") -> str: ...


class AwsDatabase(Model):
    """An RDS Multi-AZ instance (reboot with forced failover) or an Aurora cluster."""

    instance: str | None = None
    cluster: str | None = None
    target_instance: str | None = None  # the Aurora reader to promote (optional)

    @model_validator(mode="after")
    def _one(self) -> "AwsDatabase":
        if bool(self.instance) == bool(self.cluster):
            raise ValueError("give exactly one of 'instance' or 'cluster'")
        return self
