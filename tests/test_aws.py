"""AWS sessions under a profile and an assumed role, for our clients and chaosaws' alike,
and for `recover`, which knows only the inventory. Against moto's server on 127.0.0.1:
the credentials each request was signed with are read from its Authorization header."""

import re
from pathlib import Path

import boto3

from chaoslib_edx.cdn.actions import break_video_origin, restore_video_origin
from chaoslib_edx.ledger import Ledger
from chaoslib_edx.rds.actions import failover_database
from chaoslib_edx.recovery.recover import recover
from tests.aws import REGION
from tests.cdn.test_aws import _distribution

ROLE = "arn:aws:iam::123456789012:role/edx-gameday"


def _signed_by(request: dict) -> str:
    """The access key id a recorded request was signed with."""
    return re.search(r"Credential=([^/]+)/", request["headers"]["Authorization"]).group(1)


def test_a_profile_from_the_experiment_signs_our_requests(aws_env, moto_endpoint, monkeypatch,
                                                         tmp_path: Path) -> None:
    profile = tmp_path / "aws-config"
    profile.write_text("[profile edx-staging]\naws_access_key_id = AKIAPROFILE000000001\n"
                       "aws_secret_access_key = not-a-real-secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(profile))
    dist_id, _ = _distribution("edx-video-profile")
    config = aws_env({"distributions": {"video": {"id": dist_id, "origin_id": "video-s3"}}})
    moto_endpoint.start_recording()
    break_video_origin("video", configuration={**config, "aws_profile_name": "edx-staging"})
    requests = moto_endpoint.recorded()
    assert requests and {_signed_by(r) for r in requests} == {"AKIAPROFILE000000001"}
    restore_video_origin("video", configuration=config)


def test_a_role_from_the_inventory_serves_chaosaws_and_recover(aws_env, moto_endpoint) -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance(DBInstanceIdentifier="edxapp-role", DBInstanceClass="db.r6g.large",
                           Engine="mysql", MultiAZ=True, AllocatedStorage=100,
                           MasterUsername="admin", MasterUserPassword="not-a-secret-here")
    config = aws_env({"assume_role_arn": ROLE,
                      "databases": {"edxapp": {"instance": "edxapp-role"}}})
    moto_endpoint.start_recording()
    failover_database("edxapp", configuration=config)      # chaosaws' reboot_db_instance
    # What a crash leaves to `recover`, which has the inventory and nothing else.
    recovery = recover(config["edx_environment"], config["edx_ledger"])
    requests = moto_endpoint.recorded()
    assumed = [r for r in requests if "Action=AssumeRole" in r["body"]]
    assert assumed and all(f"RoleArn={ROLE.replace(':', '%3A').replace('/', '%2F')}"
                           in r["body"] for r in assumed)
    reboot = next(r for r in requests if "Action=RebootDBInstance" in r["body"])
    describes = [r for r in requests if "Action=DescribeDBInstances" in r["body"]]
    for request in [reboot, *describes]:
        assert _signed_by(request) != "testing", request["body"]  # not the plain chain
        assert "X-Amz-Security-Token" in request["headers"]       # temporary role credentials
    assert [r["ok"] for r in recovery.results] == [True]
    assert Ledger(config["edx_ledger"]).pending() == []
