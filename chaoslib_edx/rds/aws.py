"""The database fault on AWS: Multi-AZ reboot with failover, or an Aurora cluster failover."""

from chaosaws.rds.actions import failover_db_cluster, reboot_db_instance
from chaoslib.types import Secrets

from chaoslib_edx import aws
from chaoslib_edx.rds.contract import AwsDatabase, FailoverResult, RestoreResult
from chaoslib_edx.targets import Target


def failover(target: Target, *, secrets: Secrets | None,
             downtime_seconds: float) -> FailoverResult:
    """Start the failover; RDS completes it by itself (downtime is its own, not ours)."""
    spec: AwsDatabase = target.spec
    config = aws.chaosaws_configuration(target)
    before = primary(target, secrets=secrets)
    if spec.instance:
        response = reboot_db_instance(db_instance_identifier=spec.instance, force_failover=True,
                                      configuration=config, secrets=secrets)
        return {"primary_before": before, "primary_after": None, "write_outage_seconds": None,
                "status": response["DBInstance"]["DBInstanceStatus"]}
    if spec.target_instance:
        response = failover_db_cluster(db_cluster_identifier=spec.cluster,
                                       target_db_instance_identifier=spec.target_instance,
                                       configuration=config, secrets=secrets)
    else:
        # chaosaws 0.35 passes TargetDBInstanceIdentifier=None, which boto3 rejects;
        # without a target Aurora picks the reader itself, so leave the key out.
        response = aws.client("rds", target, secrets).failover_db_cluster(
            DBClusterIdentifier=spec.cluster)
    return {"primary_before": before, "primary_after": None, "write_outage_seconds": None,
            "status": response["DBCluster"]["Status"]}


def _status(target: Target, secrets: Secrets | None) -> str:
    spec: AwsDatabase = target.spec
    rds = aws.client("rds", target, secrets)
    if spec.instance:
        return rds.describe_db_instances(
            DBInstanceIdentifier=spec.instance)["DBInstances"][0]["DBInstanceStatus"]
    return rds.describe_db_clusters(DBClusterIdentifier=spec.cluster)["DBClusters"][0]["Status"]


def restore(target: Target, *, secrets: Secrets | None,
            timeout_s: float = 900) -> RestoreResult:
    """A failover cannot be undone on RDS; restoring means waiting until it is available."""
    status = aws.wait_for_status(lambda: _status(target, secrets), "available",
                                 f"database '{target.name}'", timeout_s)
    return {"primary": primary(target, secrets=secrets), "was_primary": None, "status": status}


def writable(target: Target, *, secrets: Secrets | None) -> bool:
    return _status(target, secrets) == "available"


def primary(target: Target, *, secrets: Secrets | None) -> str:
    """The primary's availability zone (instance) or writer (cluster): changes on failover."""
    spec: AwsDatabase = target.spec
    rds = aws.client("rds", target, secrets)
    if spec.instance:
        return rds.describe_db_instances(
            DBInstanceIdentifier=spec.instance)["DBInstances"][0]["AvailabilityZone"]
    members = rds.describe_db_clusters(DBClusterIdentifier=spec.cluster)["DBClusters"][0][
        "DBClusterMembers"]
    return next(m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"])
