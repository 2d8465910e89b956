"""CloudWatch alarms as a detection source's alerts: when each configured alarm was in
ALARM during a run, from its state-change history (DescribeAlarmHistory)."""

import json
from datetime import datetime, timezone

from chaoslib_edx.detection.attribution import Firing

LOOKBACK_S = 3600  # to see an alarm that was already in ALARM when the run started


class CloudWatchAlarms:
    """ALARMS: alarm name -> (slo, severity, runbook_url)."""

    def __init__(self, client, alarms: dict[str, tuple[str, str, str]]) -> None:
        self.client, self.alarms = client, alarms

    def firings(self, start: float, end: float) -> list[Firing]:
        found = []
        for name, (slo, severity, runbook) in self.alarms.items():
            changes = []
            pages = self.client.get_paginator("describe_alarm_history").paginate(
                AlarmName=name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending",
                StartDate=datetime.fromtimestamp(start - LOOKBACK_S, timezone.utc),
                EndDate=datetime.fromtimestamp(end, timezone.utc))
            for page in pages:
                for item in page["AlarmHistoryItems"]:
                    state = json.loads(item["HistoryData"])["newState"]["stateValue"]
                    changes.append((item["Timestamp"].timestamp(), state))
            began = None
            for when, state in sorted(changes):
                if state == "ALARM" and began is None:
                    began = when
                elif state != "ALARM" and began is not None:
                    found.append(Firing(name, slo, severity, began, when, runbook))
                    began = None
            if began is not None:  # still in ALARM at the end of the span
                found.append(Firing(name, slo, severity, began, end, runbook))
        return sorted((f for f in found if f.end >= start), key=lambda f: f.start)
