"""The cache fault against ElastiCache's API.

moto (on 127.0.0.1) serves the replication group and its description, so those calls
cross the wire. moto has no RebootCacheCluster (nor TestFailover, which answers 500) and makes
replication groups without member clusters, so DescribeCacheClusters and
RebootCacheCluster are checked the way botocore's Stubber does it: botocore validates the
parameters against the service model, then a `before-call` handler answers in place of
the missing server API and keeps the parameters for the assertions.
"""

import boto3
from botocore.awsrequest import AWSResponse

from chaoslib_edx.cache.actions import evict_cache, restore_cache
from chaoslib_edx.cache.probes import cache_healthy
from chaoslib_edx.ledger import Ledger
from tests.aws import REGION


def test_reboot_the_groups_nodes_then_wait_available(aws_env) -> None:
    elasticache = boto3.client("elasticache", region_name=REGION)
    elasticache.create_replication_group(
        ReplicationGroupId="edx-sessions", ReplicationGroupDescription="sessions and cache",
        Engine="redis", CacheNodeType="cache.r6g.large", NumCacheClusters=2)
    members = elasticache.describe_replication_groups(
        ReplicationGroupId="edx-sessions")["ReplicationGroups"][0]["MemberClusters"]
    config = aws_env({"caches": {"sessions": {"replication_group": "edx-sessions"}}})

    reboots: list[dict] = []

    def answer_reboot(params: dict, **_kwargs: object):
        reboots.append(params["body"])
        return AWSResponse(None, 200, {}, None), {"CacheCluster": {"CacheClusterStatus": "rebooting"}}

    def answer_describe(params: dict, **_kwargs: object):
        # chaosaws asks each member for its node ids; moto creates the group without
        # member clusters (CacheClusterNotFound), so this answer stands in for it too.
        return AWSResponse(None, 200, {}, None), {"CacheClusters": [{
            "CacheClusterId": params["body"]["CacheClusterId"],
            "CacheNodes": [{"CacheNodeId": "0001"}]}]}

    if boto3.DEFAULT_SESSION is None:  # the session chaosaws' clients come from
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    session.events.register("before-call.elasticache.RebootCacheCluster", answer_reboot)
    session.events.register("before-call.elasticache.DescribeCacheClusters", answer_describe)
    try:
        evict_cache("sessions", configuration=config)
    finally:
        session.events.unregister("before-call.elasticache.RebootCacheCluster", answer_reboot)
        session.events.unregister("before-call.elasticache.DescribeCacheClusters",
                                  answer_describe)
    assert sorted(r["CacheClusterId"] for r in reboots) == sorted(members)
    assert all(r["CacheNodeIdsToReboot.CacheNodeId.1"] == "0001" for r in reboots)
    assert len(Ledger(config["edx_ledger"]).pending()) == 1
    restore_cache("sessions", configuration=config)
    assert cache_healthy("sessions", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []
