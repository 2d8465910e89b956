"""Cache loss on ElastiCache: reboot the replication group's nodes (an in-memory cache
comes back empty), then wait until the group is available again."""

from chaosaws.elasticache.actions import reboot_cache_clusters
from chaoslib.types import Secrets

from chaoslib_edx import aws
from chaoslib_edx.cache.contract import AwsCache, CacheRestoreResult, EvictResult
from chaoslib_edx.targets import Target


def _group(target: Target, secrets: Secrets | None) -> dict:
    spec: AwsCache = target.spec
    client = aws.client("elasticache", target, secrets)
    return client.describe_replication_groups(
        ReplicationGroupId=spec.replication_group)["ReplicationGroups"][0]


def evict(target: Target, *, secrets: Secrets | None, maxmemory: str,
          fill_mb: int) -> EvictResult:
    members = _group(target, secrets)["MemberClusters"]
    reboot_cache_clusters(cluster_ids=members, configuration=aws.chaosaws_configuration(target),
                          secrets=secrets)
    return {"evicted_keys": None, "sessions_before": None, "sessions_after": None,
            "rebooted": members}


def restore(target: Target, *, secrets: Secrets | None,
            timeout_s: float = 900) -> CacheRestoreResult:
    status = aws.wait_for_status(lambda: _group(target, secrets)["Status"], "available",
                                 f"cache '{target.name}'", timeout_s)
    return {"status": status, "maxmemory": None, "filler_keys_removed": 0}


def memory(target: Target, *, secrets: Secrets | None) -> dict:
    group = _group(target, secrets)
    return {"status": group["Status"], "members": group["MemberClusters"]}


def healthy(target: Target, *, secrets: Secrets | None) -> bool:
    return _group(target, secrets)["Status"] == "available"
