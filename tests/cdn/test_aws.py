"""The CloudFront origin swap and restore against moto on 127.0.0.1 (wire level)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

from chaoslib_edx import lease
from chaoslib_edx.cdn.actions import break_video_origin, restore_video_origin
from chaoslib_edx.cdn.aws import UNREACHABLE
from chaoslib_edx.cdn.probes import video_origin_serving
from chaoslib_edx.ledger import Ledger, ledger_path
from chaoslib_edx.load.recorder import ClassStats, new_histogram
from chaoslib_edx.recovery.control import after_experiment_control
from tests.conftest import REPO

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
    saved = entry.arguments["saved"]  # the whole origin: S3OriginConfig, access control
    assert saved["origin_domain_name"] == ORIGIN
    assert saved["origin"] == before["Origins"]["Items"][0]
    # CloudFront refuses an S3 origin whose domain is no bucket's: the broken one is custom.
    broken = boto3.client("cloudfront").get_distribution_config(
        Id=dist_id)["DistributionConfig"]["Origins"]["Items"][0]
    assert "S3OriginConfig" not in broken or not broken["S3OriginConfig"]
    assert broken["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert video_origin_serving("video", configuration=config) is False

    restore_video_origin("video", configuration=config)  # the ledger has what was saved
    after = boto3.client("cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
    assert after == before
    assert video_origin_serving("video", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []


def test_the_ledger_alone_restores_after_an_interrupted_experiment(aws_env) -> None:
    """The saved origin travels in the ledger: the control, ending an experiment of a game
    day whose rollbacks never ran, restores it with nothing else."""
    dist_id, _ = _distribution("edx-video-after-crash")
    config = aws_env({"distributions": {"video": {"id": dist_id, "origin_id": "video-s3"}}})
    run = lease.begin(config, "game day 'cdn'")
    try:
        break_video_origin("video", configuration=config)
        assert _origins(dist_id)["video-s3"] == UNREACHABLE
        after_experiment_control({}, {}, configuration=config)
    finally:
        lease.end(run)
    assert _origins(dist_id)["video-s3"] == ORIGIN
    assert Ledger(ledger_path(config)).pending() == []



def _video_metrics(path: Path, seconds: range) -> None:
    """Per-second metrics of healthy video delivery around now, in the load's format."""
    now = int(time.time())
    with path.open("w") as out:
        for offset in seconds:
            hist = new_histogram()
            hist.record_value(15_000, 50)
            stats = ClassStats(50, 0, 0, hist).to_json()
            out.write(json.dumps({"t": now + offset, "classes": {"video": stats}}) + "\n")


def test_the_shipped_experiment_runs_end_to_end(aws_env, tmp_path: Path) -> None:
    """`chaos run experiments/cloudfront-origin-loss.yaml`, unchanged, against CloudFront on
    moto: the method's restore and the rollback find the saved origin in the ledger. No
    viewer traffic can reach moto's CloudFront, so the video-delivery SLO reads metrics
    written for the run's span (the load's file format, nothing patched)."""
    dist_id, before = _distribution("edx-video-shipped")
    config = aws_env({"distributions": {"video": {"id": dist_id, "origin_id": "video-s3"}}})
    metrics, journal = tmp_path / "metrics.jsonl", tmp_path / "journal.json"
    _video_metrics(metrics, range(-60, 180))
    result = subprocess.run(
        [sys.executable, "-m", "chaostoolkit", "--no-version-check", "--log-file",
         str(tmp_path / "chaos.log"), "run", "--journal-path", str(journal),
         str(REPO / "experiments/cloudfront-origin-loss.yaml")],
        cwd=REPO, capture_output=True, text=True, timeout=150,
        env={**os.environ, "EDX_ENVIRONMENT": config["edx_environment"],
             "EDX_LEDGER": config["edx_ledger"], "EDX_METRICS_FILE": str(metrics),
             "EDX_LOAD": "external"})
    record = json.loads(journal.read_text())
    assert record["status"] == "completed" and not record["deviated"], result.stderr[-3000:]
    runs = {r["activity"]["name"]: r for r in record["run"] + record["rollbacks"]}
    assert runs["lose-the-video-origin"]["output"] == {"origin": UNREACHABLE, "serving": False}
    assert runs["restore-the-origin"]["status"] == "succeeded", runs["restore-the-origin"]
    assert runs["restore-the-origin"]["output"]["origin"] == ORIGIN
    assert runs["origin-back"]["status"] == "succeeded", runs["origin-back"]
    assert boto3.client("cloudfront").get_distribution_config(
        Id=dist_id)["DistributionConfig"] == before
    assert Ledger(config["edx_ledger"]).pending() == []
