"""CloudWatch as a detection source: when each configured alarm was in ALARM during a
run, and when it was in INSUFFICIENT_DATA (its metric had no datapoints: the alarm could
not have fired), from its state-change history (DescribeAlarmHistory); and an SLO's
good share as CloudWatch's metrics give it (GetMetricData)."""

import json
from datetime import datetime, timezone

from chaoslib_edx.detection.attribution import Firing, merged
from chaoslib_edx.slo.catalog import CLOUDWATCH_RESULTS, Slo

LOOKBACK_S = 3600  # to see an alarm's state when the run started
# CloudWatch's standard resolution: a window's sums are of whole minutes (CloudWatch rounds
# its ends to them), and over a budget period of days an hour per datapoint keeps every
# query to one page.
PERIOD_S, LONG_PERIOD_S, LONG_WINDOW_S = 60, 3600, 86400


class CloudWatchAlarms:
    """ALARMS: alarm name -> (slo, severity, runbook_url)."""

    name = "cloudwatch"

    def __init__(self, client, alarms: dict[str, tuple[str, str, str]]) -> None:
        self.client, self.alarms = client, alarms

    def _states(self, name: str, start: float, end: float) -> list[tuple[str, float, float]]:
        """The alarm's states over [START, END] as (state, from, to), oldest first."""
        changes = []
        pages = self.client.get_paginator("describe_alarm_history").paginate(
            AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending",
            StartDate=datetime.fromtimestamp(start - LOOKBACK_S, timezone.utc),
            EndDate=datetime.fromtimestamp(end, timezone.utc))
        for page in pages:
            for item in page["AlarmHistoryItems"]:
                state = json.loads(item["HistoryData"])["newState"]["stateValue"]
                changes.append((item["Timestamp"].timestamp(), state))
        changes.sort()
        ends = [when for when, _ in changes[1:]] + [end]  # the last lasts to the span's end
        return [(state, when, until) for (when, state), until in zip(changes, ends)
                if until >= start]

    def firings(self, start: float, end: float) -> list[Firing]:
        found = [Firing(name, slo, severity, began, until, runbook)
                 for name, (slo, severity, runbook) in self.alarms.items()
                 for state, began, until in self._states(name, start, end)
                 if state == "ALARM"]
        return sorted(found, key=lambda f: f.start)

    def blind(self, start: float, end: float) -> list[tuple[float, float]]:
        """When an alarm had too little data to fire (INSUFFICIENT_DATA) in [START, END]."""
        return merged([(max(began, start), min(until, end)) for name in self.alarms
                       for state, began, until in self._states(name, start, end)
                       if state == "INSUFFICIENT_DATA"])


class CloudWatchMetrics:
    """SLOs' good shares from the CloudWatch metrics their catalog entry names."""

    name = "cloudwatch"

    def __init__(self, client) -> None:
        self.client = client

    def measures(self, slo: Slo) -> bool:
        return slo.cloudwatch is not None

    def good_share(self, slo: Slo, start: float, end: float) -> float | None:
        """SLO's good share over [START, END): its good and total summed; None without
        datapoints (no data is never 100%)."""
        sli = slo.cloudwatch
        if sli is None:
            return None
        period = LONG_PERIOD_S if end - start > LONG_WINDOW_S else PERIOD_S
        queries = [{"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": metric.namespace, "MetricName": metric.metric,
                       "Dimensions": [{"Name": k, "Value": v}
                                      for k, v in metric.dimensions.items()]},
            "Period": period, "Stat": metric.stat}} for query_id, metric in sli.metrics.items()]
        queries += [{"Id": query_id, "Expression": expression, "ReturnData": True}
                    for query_id, expression in zip(CLOUDWATCH_RESULTS, (sli.good, sli.total))]
        found: dict[str, dict[datetime, float]] = {query_id: {} for query_id in
                                                    CLOUDWATCH_RESULTS}
        pages = self.client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=datetime.fromtimestamp(start, timezone.utc),
            EndTime=datetime.fromtimestamp(end, timezone.utc))
        for page in pages:
            for result in page["MetricDataResults"]:
                found[result["Id"]].update(zip(result["Timestamps"], result["Values"]))
        # Only minutes with both: math over a metric without datapoints gives none, and a
        # missing good count is unknown, not zero.
        good, total = found[CLOUDWATCH_RESULTS[0]], found[CLOUDWATCH_RESULTS[1]]
        both = [when for when in total if when in good]
        counted = sum(total[when] for when in both)
        if not counted:
            return None
        return max(0.0, min(1.0, sum(good[when] for when in both) / counted))
