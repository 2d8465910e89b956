"""Cache loss on the sandbox: lower Redis maxmemory and fill it so the eviction policy
throws out sessions and cached pages; restore the inventory's maxmemory afterwards. And
the cache's Multi-AZ failover, for a zone's loss: the replica in the other zone promoted
behind the cache endpoint, and the home primary back once it has caught up."""

import redis
from chaoslib.types import Secrets

from chaoslib_edx.cache.contract import CacheRestoreResult, EvictResult
from chaoslib_edx.environment import parse_memory
from chaoslib_edx.sandbox import endpoints
from chaoslib_edx.sandbox.clients import redis_client
from chaoslib_edx.sandbox.layout import CACHE_NODES, Layout
from chaoslib_edx.targets import Target
from chaoslib_edx.waiting import wait_until

FILL_PREFIX = "chaos:fill:"
_CHUNK = 64 * 1024
SYNC_WAIT_S = 60    # a replica's full resync of the sandbox's cache (at most its maxmemory)
SWITCH_WAIT_S = 10  # Redis' FAILOVER: the replica catches up, the roles swap
REPOINT_WAIT_S = 10  # nginx reloading its stream upstream


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


def primary(target: Target, *, secrets: Secrets | None) -> str:
    """The node the cache endpoint names."""
    return endpoints.primary(Layout.of(target), "cache")


def failover(target: Target, *, secrets: Secrets | None) -> dict:
    """The primary is lost with its zone: promote the other node (REPLICAOF NO ONE) and
    point the endpoint at it, as ElastiCache's Multi-AZ does with its primary endpoint."""
    layout = Layout.of(target)
    old = endpoints.primary(layout, "cache")
    new = next(node for node in CACHE_NODES if node != old)
    client = redis_client(layout.node_port(new), timeout=5)
    try:
        client.replicaof("NO", "ONE")
    finally:
        client.close()
    _repoint(layout, new)
    return {"primary_before": old, "primary_after": new}


def _repoint(layout: Layout, node: str) -> None:
    """Point the cache endpoint at NODE, and return once a new connection through it
    reaches NODE (nginx's reload is asynchronous: until then the old worker forwards)."""
    endpoints.repoint(layout, "cache", node)

    def reaches() -> bool:
        with redis_client(layout.port("cache_endpoint"), timeout=1) as client:
            return client.info("server")["tcp_port"] == layout.node_port(node)

    wait_until(reaches, timeout=REPOINT_WAIT_S, what=f"the cache endpoint reaching {node}",
               interval=0.05, ignore=(redis.RedisError,))


def _topology(layout: Layout) -> None:
    """The home primary behind the endpoint, the other node its replica, from any point of
    a failover: home follows the current primary until it holds all of it (a full resync:
    what only home wrote while it was cut off is dropped, as ElastiCache drops it), then
    Redis' own FAILOVER swaps their roles without losing a write."""
    home, other = CACHE_NODES
    current = endpoints.primary(layout, "cache")
    if current != home:
        with _node(layout, home) as client:
            if client.info("replication")["role"] != "slave":
                client.replicaof("127.0.0.1", layout.node_port(current))
        _wait_link(layout, home)
        wait_until(lambda: _online(layout, current, home), timeout=SYNC_WAIT_S,
                   what=f"{current} counting {home} an online replica", interval=0.1)
        with _node(layout, current) as client:
            client.execute_command("FAILOVER", "TO", "127.0.0.1", layout.node_port(home),
                                   "TIMEOUT", int(SWITCH_WAIT_S * 1000))
        wait_until(lambda: _role(layout, home) == "master", timeout=SWITCH_WAIT_S,
                   what=f"{home} promoted back by FAILOVER", interval=0.1)
        _repoint(layout, home)
        with _node(layout, current) as client:  # the application's, now on a replica:
            client.client_kill_filter(_type="normal", skipme=True)  # they reconnect home
    with _node(layout, other) as client:
        if client.info("replication").get("master_port") != layout.node_port(home):
            client.replicaof("127.0.0.1", layout.node_port(home))
    _wait_link(layout, other)


def _node(layout: Layout, node: str):
    return redis_client(layout.node_port(node), timeout=5)


def _online(layout: Layout, primary: str, replica: str) -> bool:
    """PRIMARY counts REPLICA online (what FAILOVER TO needs; the replica's own link may
    be up a moment before)."""
    with _node(layout, primary) as client:
        info = client.info("replication")
    return any(isinstance(value, dict) and value.get("port") == layout.node_port(replica)
               and value.get("state") == "online" for key, value in info.items()
               if key.startswith("slave"))


def _role(layout: Layout, node: str) -> str:
    with _node(layout, node) as client:
        return client.info("replication")["role"]


def _wait_link(layout: Layout, node: str) -> None:
    """Until NODE's link to its primary is up (its full resync done)."""
    def up() -> bool:
        with _node(layout, node) as client:
            return client.info("replication").get("master_link_status") == "up"

    wait_until(up, timeout=SYNC_WAIT_S, what=f"{node} in sync with its primary", interval=0.1)


def restore(target: Target, *, secrets: Secrets | None) -> CacheRestoreResult:
    """The home topology (see _topology), then the inventory's maxmemory and no filler."""
    _topology(Layout.of(target))
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
