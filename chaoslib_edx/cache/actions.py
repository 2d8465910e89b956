"""Cache actions: make the cache lose keys (sessions, cached pages), and restore it."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.environment import parse_memory
from chaoslib_edx.lease import fenced
from chaoslib_edx.ledger import record_rollback, settle
from chaoslib_edx.liveness import watched
from chaoslib_edx.targets import Target, resolve

__all__ = ["evict_cache", "restore_cache"]

_ROLLBACK = "chaoslib_edx.cache.actions:restore_cache"


@fenced
@watched
def evict_cache(cache: str = "sessions", maxmemory: str = "4mb", fill_mb: int = 16,
                configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Make the session/page cache lose its keys: learners are logged out, pages re-render.

    Sandbox: Redis maxmemory is lowered to maxmemory and fill_mb of filler is written, so
    the eviction policy evicts sessions. ElastiCache: the group's nodes are rebooted.
    The rollback, restore_cache, is recorded in the ledger first.
    """
    target = resolve("cache", cache, configuration)
    record_rollback("evict_cache", _ROLLBACK, {"cache": cache}, configuration)
    return target.drive("evict", secrets, maxmemory=maxmemory, fill_mb=fill_mb)


def live_evict(target: Target, arguments: dict, result: dict,
               secrets: Secrets | None) -> bool | None:
    """The live check of evict_cache (see faults.py): the cache still runs at the lowered
    maxmemory; None after a reboot (an event: the nodes come back empty by themselves)."""
    if result.get("rebooted"):
        return None
    return target.drive("memory", secrets)["maxmemory"] == parse_memory(arguments["maxmemory"])


@fenced
@watched
def restore_cache(cache: str = "sessions", configuration: Configuration = None,
                  secrets: Secrets = None) -> dict:
    """Restore the cache: the inventory's maxmemory and no filler (sandbox), or the
    replication group available again (ElastiCache)."""
    result = resolve("cache", cache, configuration).drive("restore", secrets)
    settle(_ROLLBACK, {"cache": cache}, configuration)
    return result
