"""The database fault against AWS's API, served by moto on 127.0.0.1 (wire level)."""

import boto3
import pytest

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.rds.actions import failover_database, restore_database
from chaoslib_edx.rds.probes import database_writable
from tests.aws import REGION


def _rds():
    return boto3.client("rds", region_name=REGION)


def test_multi_az_instance_reboots_with_force_failover(aws_env, moto_endpoint) -> None:
    _rds().create_db_instance(DBInstanceIdentifier="edxapp-db", DBInstanceClass="db.r6g.large",
                              Engine="mysql", MultiAZ=True, AllocatedStorage=100,
                              MasterUsername="admin", MasterUserPassword="not-a-secret-here")
    before = _rds().describe_db_instances(DBInstanceIdentifier="edxapp-db")["DBInstances"][0]
    config = aws_env({"databases": {"edxapp": {"instance": "edxapp-db"}}})
    moto_endpoint.start_recording()
    result = failover_database("edxapp", configuration=config)
    (reboot,) = [r for r in moto_endpoint.recorded() if "Action=RebootDBInstance" in r["body"]]
    assert "DBInstanceIdentifier=edxapp-db" in reboot["body"]
    assert "ForceFailover=true" in reboot["body"]
    assert result["primary_before"] == before["AvailabilityZone"]
    # RDS finishes a failover by itself: the driver reports where it started and RDS's word.
    assert result["primary_after"] is None and result["write_outage_seconds"] is None
    assert result["status"] in ("rebooting", "available")  # moto reboots at once
    assert len(Ledger(config["edx_ledger"]).pending()) == 1
    restore_database("edxapp", configuration=config)
    assert database_writable("edxapp", configuration=config) is True
    after = _rds().describe_db_instances(DBInstanceIdentifier="edxapp-db")["DBInstances"][0]
    for key in ("DBInstanceStatus", "MultiAZ", "DBInstanceClass", "Engine", "Endpoint"):
        assert after[key] == before[key], key
    assert Ledger(config["edx_ledger"]).pending() == []


def test_aurora_failover_without_target_leaves_the_key_out(aws_env, moto_endpoint) -> None:
    _rds().create_db_cluster(DBClusterIdentifier="edxapp-aurora", Engine="aurora-mysql",
                             MasterUsername="admin", MasterUserPassword="not-a-secret-here")
    for name in ("edxapp-aurora-1", "edxapp-aurora-2"):
        _rds().create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier="edxapp-aurora",
                                  DBInstanceClass="db.r6g.large", Engine="aurora-mysql")
    config = aws_env({"databases": {"edxapp": {"cluster": "edxapp-aurora"}}})
    moto_endpoint.start_recording()
    failover_database("edxapp", configuration=config)
    (call,) = [r for r in moto_endpoint.recorded() if "Action=FailoverDBCluster" in r["body"]]
    assert "DBClusterIdentifier=edxapp-aurora" in call["body"]
    assert "TargetDBInstanceIdentifier" not in call["body"]
    restore_database("edxapp", configuration=config)


def test_chaosaws_0_35_cluster_failover_without_target_is_rejected(aws_env) -> None:
    """Why the driver calls boto3 itself there: chaosaws passes None and boto3 refuses."""
    from chaosaws.rds.actions import failover_db_cluster

    with pytest.raises(Exception, match="TargetDBInstanceIdentifier"):
        failover_db_cluster("edxapp-aurora", configuration={"aws_region": REGION})
