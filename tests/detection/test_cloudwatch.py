"""CloudWatch alarm history into firings. moto does not implement DescribeAlarmHistory,
so botocore's Stubber answers it: it validates our parameters against CloudWatch's
service model and returns responses shaped by that model."""

import json
from datetime import datetime, timezone

import boto3
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
