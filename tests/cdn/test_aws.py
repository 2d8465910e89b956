"""The CloudFront origin swap and restore against moto on 127.0.0.1 (wire level)."""

import boto3

from chaoslib_edx.cdn.actions import break_video_origin, restore_video_origin
from chaoslib_edx.cdn.aws import UNREACHABLE
from chaoslib_edx.cdn.probes import video_origin_serving
from chaoslib_edx.ledger import Ledger, ledger_path
from chaoslib_edx.recovery.control import after_experiment_control

ORIGIN = "edx-video.s3.eu-west-1.amazonaws.com"


def _distribution(reference: str) -> tuple[str, dict]:
    """A distribution with the video origin and a second one the fault must not touch."""
    cloudfront = boto3.client("cloudfront")
    origins = [{"Id": "video-s3", "DomainName": ORIGIN,
                "S3OriginConfig": {"OriginAccessIdentity": ""}},
               {"Id": "static-s3", "DomainName": "edx-static.s3.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}}]
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": reference, "Comment": "course video", "Enabled": True,
        "Origins": {"Quantity": 2, "Items": origins},
        "DefaultCacheBehavior": {"TargetOriginId": "video-s3", "ViewerProtocolPolicy": "https-only",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                  "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}}})
    dist_id = created["Distribution"]["Id"]
    return dist_id, cloudfront.get_distribution_config(Id=dist_id)["DistributionConfig"]


def _origins(dist_id: str) -> dict:
    config = boto3.client("cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    return {o["Id"]: o["DomainName"] for o in config["Origins"]["Items"]}


def test_origin_swap_and_restore(aws_env, moto_endpoint) -> None:
    dist_id, before = _distribution("edx-video")
    config = aws_env({"distributions": {"video": {"id": dist_id, "origin_id": "video-s3"}}})
    moto_endpoint.start_recording()
    break_video_origin("video", configuration=config)
    updates = [r for r in moto_endpoint.recorded() if r["method"] == "PUT"]
    assert len(updates) == 1 and updates[0]["headers"].get("If-Match")  # with the ETag
    assert _origins(dist_id) == {"video-s3": UNREACHABLE,
                                 "static-s3": "edx-static.s3.amazonaws.com"}
    (entry,) = Ledger(config["edx_ledger"]).pending()
    assert entry.arguments["saved"] == {"origin_domain_name": ORIGIN}
    assert video_origin_serving("video", configuration=config) is False

    restore_video_origin("video", saved=entry.arguments["saved"], configuration=config)
    after = boto3.client("cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    assert after == before
    assert video_origin_serving("video", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []


def test_the_ledger_alone_restores_after_a_crash(aws_env) -> None:
    """The saved origin travels in the ledger: the control restores with nothing else."""
    dist_id, _ = _distribution("edx-video-after-crash")
    config = aws_env({"distributions": {"video": {"id": dist_id, "origin_id": "video-s3"}}})
    break_video_origin("video", configuration=config)
    assert _origins(dist_id)["video-s3"] == UNREACHABLE
    after_experiment_control({}, {}, configuration=config)
    assert _origins(dist_id)["video-s3"] == ORIGIN
    assert Ledger(ledger_path(config)).pending() == []

