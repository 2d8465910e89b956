"""PagerDuty as a detection source's pager: a service's incidents in a run's span, when
each was triggered, and its first acknowledgement (who, when) from its log entries, with
the official `pagerduty` client."""

import re
from datetime import datetime, timezone

import pagerduty

from chaoslib_edx.detection.attribution import Page
from chaoslib_edx.errors import UserError

# CloudWatch's integration titles an incident 'ALARM: "<alarm name>" in <region>'.
_ALARM_TITLE = re.compile(r'ALARM: "(?P<name>[^"]+)"')


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class PagerDutyPages:
    """The incidents of SERVICE_ID; ALARMS maps an alert name to its SLO."""

    name = "pagerduty"

    def __init__(self, token: str, service_id: str, alarms: dict[str, str], source: str,
                 base_url: str | None = None) -> None:
        self.client = pagerduty.RestApiV2Client(token, base_url=base_url)
        self.service_id, self.alarms, self.source = service_id, alarms, source

    def check(self) -> None:
        """The token works and the service exists; a UserError naming the field else."""
        try:
            self.client.rget(f"/services/{self.service_id}")
        except pagerduty.HttpError as exc:
            status = exc.response.status_code if exc.response is not None else None
            field = "detection.pagerduty.service_id" if status == 404 else \
                "detection.pagerduty.token_env"
            raise UserError(f"PagerDuty answered {status} for the service "
                            f"'{self.service_id}'", file=self.source, field=field,
                            fix="Check the service id (Services > the service's URL) and "
                                "that the token may read it") from None

    def _alert(self, incident: dict) -> str:
        title = incident.get("title", "")
        match = _ALARM_TITLE.search(title)
        if match:
            return match.group("name")
        return next((name for name in self.alarms if name in title), title)

    def pages(self, start: float, end: float) -> list[Page]:
        found = []
        for incident in self.client.iter_all("incidents", params={
                "service_ids[]": [self.service_id], "since": _iso(start),
                "until": _iso(end), "time_zone": "UTC"}):
            alert = self._alert(incident)
            acked = by = None
            for entry in self.client.iter_all(f"incidents/{incident['id']}/log_entries",
                                              params={"time_zone": "UTC"}):
                if entry.get("type") == "acknowledge_log_entry":
                    when = _epoch(entry["created_at"])
                    if acked is None or when < acked:
                        acked, by = when, (entry.get("agent") or {}).get("summary")
            found.append(Page(alert, self.alarms.get(alert, ""),
                              incident.get("incident_key") or incident["id"],
                              _epoch(incident["created_at"]), acked, by))
        return sorted(found, key=lambda p: p.received)
