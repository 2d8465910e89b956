"""Cache loss on the sandbox: lower Redis maxmemory and fill it so the eviction policy
throws out sessions and cached pages; restore the inventory's maxmemory afterwards."""

from chaoslib.types import Secrets

from chaoslib_edx.cache.contract import CacheRestoreResult, EvictResult
from chaoslib_edx.environment import parse_memory
from chaoslib_edx.sandbox import endpoints
from chaoslib_edx.sandbox.clients import redis_client
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.targets import Target

FILL_PREFIX = "chaos:fill:"
_CHUNK = 64 * 1024


def _client(target: Target):
    """The primary the cache endpoint names (its home one unless a failover moved it)."""
    layout = Layout.of(target)
    return redis_client(layout.node_port(endpoints.primary(layout, "cache")), timeout=5)


def memory(target: Target, *, secrets: Secrets | None) -> dict:
    client = _client(target)
    try:
        info, stats = client.info("memory"), client.info("stats")
        return {"used_memory": info["used_memory"],
                "maxmemory": int(client.config_get("maxmemory")["maxmemory"]),
                "evicted_keys": stats["evicted_keys"], "keys": client.dbsize(),
                "sessions": sum(1 for _ in client.scan_iter("session:*", count=1000))}
    finally:
        client.close()


def evict(target: Target, *, secrets: Secrets | None, maxmemory: str,
          fill_mb: int) -> EvictResult:
    before = memory(target, secrets=secrets)
    client = _client(target)
    try:
        client.config_set("maxmemory", parse_memory(maxmemory))
        payload = b"x" * _CHUNK
        pipe = client.pipeline(transaction=False)
        for index in range(fill_mb * 1024 * 1024 // _CHUNK):
            pipe.set(f"{FILL_PREFIX}{index}", payload)
            if index % 64 == 63:
                pipe.execute()
        pipe.execute()
    finally:
        client.close()
    after = memory(target, secrets=secrets)
    return {"evicted_keys": after["evicted_keys"] - before["evicted_keys"],
            "sessions_before": before["sessions"], "sessions_after": after["sessions"],
            "rebooted": []}


def restore(target: Target, *, secrets: Secrets | None) -> CacheRestoreResult:
    configured = parse_memory(Layout.of(target).settings.redis.maxmemory)
    client = _client(target)
    try:
        client.config_set("maxmemory", configured)
        removed = 0
        for batch in _batches(client.scan_iter(f"{FILL_PREFIX}*", count=1000)):
            removed += client.unlink(*batch)
    finally:
        client.close()
    return {"status": "available", "maxmemory": configured, "filler_keys_removed": removed}


def healthy(target: Target, *, secrets: Secrets | None) -> bool:
    try:
        state = memory(target, secrets=secrets)
    except Exception:  # unreachable is unhealthy, whatever the client raised
        return False
    return state["maxmemory"] == parse_memory(Layout.of(target).settings.redis.maxmemory)


def _batches(keys, size: int = 500):
    batch = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
