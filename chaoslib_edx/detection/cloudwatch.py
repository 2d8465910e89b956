"""CloudWatch alarms as a detection source's alerts: when each configured alarm was in
ALARM during a run, and when it was in INSUFFICIENT_DATA (its metric had no datapoints:
the alarm could not have fired), from its state-change history (DescribeAlarmHistory)."""

import json
from datetime import datetime, timezone

from chaoslib_edx.detection.attribution import Firing, merged

LOOKBACK_S = 3600  # to see an alarm's state when the run started


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
