"""CloudWatch alarm history into firings, and SLIs from CloudWatch's metrics. moto does
not implement DescribeAlarmHistory, so botocore's Stubber answers it: it validates our
parameters against CloudWatch's service model and returns responses shaped by that model.
GetMetricData goes to moto's server."""

import json
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chaoslib_edx.detection.cloudwatch import CloudWatchAlarms

T = 1_800_000_000.0


def _change(offset: float, old: str, new: str) -> dict:
    return {"AlarmName": "edx-lms-5xx-burn", "AlarmType": "MetricAlarm",
            "Timestamp": datetime.fromtimestamp(T + offset, timezone.utc),
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old} to {new}",
            "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": old},
                                       "newState": {"stateValue": new}})}


def test_alarm_history_becomes_firing_intervals() -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    expected = {"AlarmName": "edx-lms-5xx-burn", "HistoryItemType": "StateUpdate",
                "ScanBy": "TimestampAscending", "StartDate": ANY, "EndDate": ANY}
    with Stubber(client) as stub:
        stub.add_response("describe_alarm_history", {
            "AlarmHistoryItems": [_change(-600, "OK", "ALARM"), _change(-300, "ALARM", "OK"),
                                  _change(12, "OK", "ALARM")],
            "NextToken": "page-2"}, expected)
        stub.add_response("describe_alarm_history", {
            "AlarmHistoryItems": [_change(70, "ALARM", "OK"),
                                  _change(100, "OK", "ALARM")]},
            {**expected, "NextToken": "page-2"})
        alarms = CloudWatchAlarms(client, {"edx-lms-5xx-burn": (
            "lms-availability", "page", "https://runbooks.example.com/edx/lms")})
        firings = alarms.firings(T, T + 120)
        stub.assert_no_pending_responses()
    # The alarm over before the run is left out; one still in ALARM ends with the span.
    assert [(f.start - T, f.end - T) for f in firings] == [(12, 70), (100, 120)]
    assert {(f.alert, f.slo, f.severity) for f in firings} == {
        ("edx-lms-5xx-burn", "lms-availability", "page")}
    assert firings[0].runbook_url == "https://runbooks.example.com/edx/lms"


def test_insufficient_data_is_a_blind_spot() -> None:
    """An alarm whose metric stopped reporting could not have fired: blind, not quiet."""
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    with Stubber(client) as stub:
        stub.add_response("describe_alarm_history", {"AlarmHistoryItems": [
            _change(-900, "INSUFFICIENT_DATA", "OK"), _change(20, "OK", "INSUFFICIENT_DATA"),
            _change(45, "INSUFFICIENT_DATA", "OK"), _change(110, "OK", "INSUFFICIENT_DATA")]})
        alarms = CloudWatchAlarms(client, {"edx-lms-5xx-burn": ("lms-availability", "page", "")})
        assert alarms.blind(T, T + 120) == [(T + 20, T + 45), (T + 110, T + 120)]
        stub.assert_no_pending_responses()


def test_cloudwatch_slis_per_window_agree_with_the_datapoints_and_no_data_is_never_good(
        aws_env) -> None:
    """An SLO's CloudWatch good/total over each fault's window, through GetMetricData on
    moto's server (moto evaluates only an id as an expression; metric math such as
    `requests - errors` is real CloudWatch's to evaluate, sent the same way). A window
    without datapoints is no data, never 100%."""
    from chaoslib_edx.context import environment_context
    from chaoslib_edx.detection.attribution import Observed
    from chaoslib_edx.detection.source import AlarmsAndPager, snapshot
    from chaoslib_edx.slo.catalog import CloudWatchSli, load_catalog
    from tests.conftest import REPO

    config = aws_env({})
    cloudwatch = boto3.client("cloudwatch")
    t0 = (int(time.time()) // 60 - 30) * 60  # whole minutes, half an hour ago
    lb = [{"Name": "LoadBalancer", "Value": "app/lms/0123456789abcdef"}]
    # Minutes 0-9: 100 requests a minute, 3 of them bad in minutes 2 and 3; then nothing.
    for minute in range(10):
        when = datetime.fromtimestamp(t0 + minute * 60 + 5, timezone.utc)
        cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
            {"MetricName": "RequestCount", "Dimensions": lb, "Timestamp": when, "Value": 100},
            {"MetricName": "GoodRequestCount", "Dimensions": lb, "Timestamp": when,
             "Value": 97 if minute in (2, 3) else 100}])
    metric = {"namespace": "AWS/ApplicationELB", "dimensions": {"LoadBalancer":
                                                                "app/lms/0123456789abcdef"}}
    slo = load_catalog(REPO / "gamedays/slos.yaml").get("lms-availability").model_copy(
        update={"cloudwatch": CloudWatchSli.model_validate({
            "metrics": {"requests": {**metric, "metric": "RequestCount"},
                        "ok": {**metric, "metric": "GoodRequestCount"}},
            "good": "ok", "total": "requests"})})
    view = environment_context(config["edx_environment"]).platform.server_views()["cloudwatch"]
    assert view.measures(slo)
    assert view.good_share(slo, t0 + 120, t0 + 240) == pytest.approx(0.97)
    assert view.good_share(slo, t0, t0 + 600) == pytest.approx(0.994)
    assert view.good_share(slo, t0 + 240, t0 + 600) == 1.0
    assert view.good_share(slo, t0 + 600, t0 + 900) is None  # no datapoints: no data
    kept = snapshot(AlarmsAndPager(None, None, {"cloudwatch": view}), [Observed("slow", t0 + 120, t0 + 240),
                                   Observed("dark", t0 + 600, t0 + 900)], [slo], t0, t0 + 900)
    assert kept["server_slos"] == {"slow": {"lms-availability": pytest.approx(0.97)},
                                   "dark": {"lms-availability": None}}
    other = load_catalog(REPO / "gamedays/slos.yaml").get("api-latency")
    assert not view.measures(other) and "api-latency" not in kept["server_slos"]["slow"]

