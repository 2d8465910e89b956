"""Saturation sources: CloudWatch through boto3 against moto's server (the AWS platform's
series), and the process sampler on real processes of this machine."""

import json
import subprocess
import sys
import time
from datetime import datetime, timezone

import boto3
import pytest

from chaoslib_edx.capacity.saturation import ProcessSampler, read_samples
from chaoslib_edx.context import environment_context
from chaoslib_edx.waiting import wait_until
from tests.aws import REGION


def test_cloud_platform_reads_cloudwatch_cpu_of_its_databases_and_caches(aws_env) -> None:
    config = aws_env({"databases": {"edxapp": {"instance": "edxapp-db"}},
                      "caches": {"sessions": {"replication_group": "edx-sessions"}}})
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = time.time()
    for namespace, metric, dimension, value in (
            ("AWS/RDS", "CPUUtilization", ("DBInstanceIdentifier", "edxapp-db"), 87.5),
            ("AWS/ElastiCache", "EngineCPUUtilization", ("ReplicationGroupId", "edx-sessions"),
             12.0)):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{
            "MetricName": metric, "Value": value, "Unit": "Percent",
            "Timestamp": datetime.fromtimestamp(now - 30, timezone.utc),
            "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}]}])
    target = environment_context(config["edx_environment"]).platform
    series = target.saturation_series(now - 600, now)
    assert [v for _, v in series["edxapp-db CPUUtilization (%)"]] == [87.5]
    assert [v for _, v in series["edx-sessions EngineCPUUtilization (%)"]] == [12.0]


@pytest.mark.integration  # it starts processes to watch
def test_process_sampler_sees_a_busy_process_and_an_idle_one(tmp_path) -> None:
    """Tolerates a loaded machine: it waits (up to 30 s) for a sample in which the busy
    process had the CPU, which needs half of one core for half a second."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    path = tmp_path / "saturation.jsonl"
    sampler = ProcessSampler({"busy": [busy.pid], "idle": [idle.pid], "gone": [2 ** 22]},
                             path, interval_s=0.5)
    try:
        sampler.start()
        wait_until(lambda: read_samples(path), timeout=30, what="a sample of the busy process",
                   until=lambda samples: len(samples) >= 3
                   and samples[-1]["components"]["busy"]["cpu"] > 50)
    finally:
        sampler.stop()
        busy.kill()
        idle.kill()
    samples = read_samples(path)
    busiest = max(samples[1:], key=lambda s: s["components"]["busy"]["cpu"])["components"]
    assert busiest["busy"]["cpu"] > 50 and all(s["components"]["idle"]["cpu"] < 10
                                               for s in samples[1:])
    assert busiest["busy"]["rss_mib"] > 1 and busiest["gone"]["processes"] == 0
    # One JSON object per line, each a whole sample: what read_samples returned.
    assert [json.loads(line) for line in path.read_text().splitlines()] == samples
