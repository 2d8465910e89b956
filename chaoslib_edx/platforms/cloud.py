"""AWS (RDS, ElastiCache, CloudFront) with EKS for the LMS: targets by logical name in the
inventory's cloud sections, load to the inventory's endpoints."""

import os
from typing import TYPE_CHECKING

from chaoslib_edx.detection.source import AlarmsAndPager, DetectionSource
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import Fault
from chaoslib_edx.model import Model
from chaoslib_edx.platforms import Platform, UnknownTarget

if TYPE_CHECKING:
    from chaoslib_edx.detection.source import ServerView


class CloudPlatform(Platform):
    def target_spec(self, fault: Fault, name: str) -> Model:
        section = fault.placements["aws"].section
        root, _, entries = section.partition(".")
        settings = getattr(self.environment, root)
        known = getattr(settings, entries) if settings is not None else {}
        if name not in known:
            raise UnknownTarget(section, list(known))
        return known[name]

    def lms_url(self) -> str:
        return self._endpoints().lms_url

    def load_environment(self) -> dict[str, str]:
        endpoints = self._endpoints()
        return {"EDX_CDN_URL": endpoints.cdn_url,
                "EDX_COURSE_KEYS": ",".join(endpoints.course_keys)}

    def login_limit(self) -> int | None:
        return self._endpoints().login_limit_per_5min

    def detection(self) -> DetectionSource | None:
        settings = self.environment.detection
        if settings is None:
            return None
        alarms = pager = None
        if settings.cloudwatch is not None:
            from chaoslib_edx.aws import client_of, session_for, settings_of
            from chaoslib_edx.detection.cloudwatch import CloudWatchAlarms

            if self.environment.aws is None:
                raise UserError("CloudWatch alarms need the 'aws' section (region)",
                                file=self.env_file, field="detection.cloudwatch")
            client = client_of(session_for(settings_of(self.environment.aws)), "cloudwatch")
            alarms = CloudWatchAlarms(client, {
                name: (alarm.slo, alarm.severity, alarm.runbook_url)
                for name, alarm in settings.cloudwatch.alarms.items()})
        if settings.pagerduty is not None:
            from chaoslib_edx.detection.pagerduty import PagerDutyPages

            token = os.environ.get(settings.pagerduty.token_env)
            if not token:
                raise UserError(f"PagerDuty needs a REST API token in the environment "
                                f"variable {settings.pagerduty.token_env}, which is not set",
                                file=self.env_file, field="detection.pagerduty.token_env",
                                fix="Export it (a read-only token is enough)")
            slos = {name: alarm.slo for name, alarm in settings.cloudwatch.alarms.items()} \
                if settings.cloudwatch else {}
            pager = PagerDutyPages(token, settings.pagerduty.service_id, slos,
                                   self.env_file, settings.pagerduty.base_url)
        views = self.server_views()
        if "newrelic" in views:
            issues = views["newrelic"]
            alarms, pager = alarms or issues, pager or issues
        return AlarmsAndPager(alarms, pager, views)

    def server_views(self) -> "dict[str, ServerView]":
        """New Relic's NRQL (detection.newrelic), then CloudWatch's metrics (the aws
        section): an SLO with queries for both is read from New Relic. (Not through
        detection(), which takes its views from here.)"""
        views = self.newrelic_view()
        if self.environment.aws is not None:
            from chaoslib_edx.aws import client_of, session_for, settings_of
            from chaoslib_edx.detection.cloudwatch import CloudWatchMetrics

            views["cloudwatch"] = CloudWatchMetrics(client_of(session_for(settings_of(
                self.environment.aws)), "cloudwatch"))
        return views

    def saturation_series(self, start: float, end: float) -> dict[str, list[list[float]]]:
        """CloudWatch CPU of the inventory's RDS instances and ElastiCache groups."""
        from chaoslib_edx.aws import client_of, session_for, settings_of
        from chaoslib_edx.capacity.saturation import cloudwatch_series

        aws = self.environment.aws
        if aws is None:
            return {}
        targets = {"databases": [d.instance for d in aws.databases.values() if d.instance],
                   "caches": [c.replication_group for c in aws.caches.values()]}
        client = client_of(session_for(settings_of(aws)), "cloudwatch")
        return cloudwatch_series(client, targets, start, end)

    def _endpoints(self):
        if self.environment.endpoints is None:
            raise UserError("load against a non-sandbox environment needs 'endpoints' "
                            "(lms_url, cdn_url)", file=self.env_file, field="endpoints")
        return self.environment.endpoints
