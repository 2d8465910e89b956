"""What every cache driver provides, and what a cloud inventory says of a cache."""

from typing import TYPE_CHECKING, Protocol, TypedDict

from chaoslib_edx.model import Model

if TYPE_CHECKING:
    from chaoslib.types import Secrets

    from chaoslib_edx.targets import Target


class EvictResult(TypedDict):
    evicted_keys: int | None       # None: the platform drops everything (a node reboot)
    sessions_before: int | None    # None: the driver cannot count sessions
    sessions_after: int | None
    rebooted: list[str]            # nodes rebooted to empty them (none on the sandbox)


class CacheRestoreResult(TypedDict):
    status: str
    maxmemory: int | None          # the restored limit, where the driver sets one
    filler_keys_removed: int


class CacheDriver(Protocol):
    def evict(self, target: "Target", *, secrets: "Secrets | None", maxmemory: str,
              fill_mb: int) -> EvictResult: ...

    def restore(self, target: "Target", *, secrets: "Secrets | None") -> CacheRestoreResult: ...

    def memory(self, target: "Target", *, secrets: "Secrets | None") -> dict: ...

    def healthy(self, target: "Target", *, secrets: "Secrets | None") -> bool: ...


class AwsCache(Model):
    """An ElastiCache replication group."""

    replication_group: str
