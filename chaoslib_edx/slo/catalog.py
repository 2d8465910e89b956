"""The SLO catalog file: what each SLO measures and its objective."""

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, ValidationError, field_validator, model_validator

from chaoslib_edx.environment import read_yaml
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import default_file
from chaoslib_edx.load.recorder import EVENT_CLASSES, ROUTE_CLASSES
from chaoslib_edx.model import Model, validation_error

DEFAULT_CATALOG = "gamedays/slos.yaml"  # from the working directory, else the shipped one
SERVICE_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"  # a DNS label, as OpenSLO's names
RESERVED_LABELS = ("slo", "severity", "rule")  # the alerts' own (Alertmanager routes on them)


class Indicator(Model):
    type: Literal["availability", "latency"]
    route_classes: tuple[str, ...] = Field(min_length=1)
    # availability: which requests are bad
    bad: Literal["server_errors", "failures"] = "server_errors"
    # latency: a request is good when it answers within threshold_ms
    threshold_ms: float | None = Field(None, gt=0)
    percentile: float | None = Field(None, gt=0, lt=100)

    @model_validator(mode="after")
    def _check(self) -> "Indicator":
        known = ROUTE_CLASSES + EVENT_CLASSES
        unknown = set(self.route_classes) - set(known)
        if unknown:
            raise ValueError(f"unknown route class {sorted(unknown)}; known: {known}")
        if self.type == "latency" and (self.threshold_ms is None or self.percentile is None):
            raise ValueError("a latency indicator needs threshold_ms and percentile")
        return self


class AlertRule(Model):
    """A multi-window burn-rate alert (SRE workbook): it fires when the burn rate over both
    the long and the short window exceeds burn_rate. Windows are in platform seconds; a
    game day shorter than the slowest paging rule compresses them (see slo.evaluator)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    long_s: int = Field(gt=0)
    short_s: int = Field(gt=0)
    burn_rate: float = Field(gt=0)
    severity: Literal["page", "ticket"] = Field(
        description="who is told when it fires; default: page for a rule whose name starts "
                    "with page, ticket for any other (a rule pages only when it says so)")

    @model_validator(mode="before")
    @classmethod
    def _default_severity(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("severity") is None:
            paging = str(data.get("name", "")).startswith("page")
            return {**data, "severity": "page" if paging else "ticket"}
        return data

    @model_validator(mode="after")
    def _short(self) -> "AlertRule":
        if self.short_s >= self.long_s:
            raise ValueError("short_s must be shorter than long_s")
        return self


# The SRE workbook's tiers for a 30-day budget (chapter "Alerting on SLOs", its recommended
# parameters): page when 2% of the budget burns in 1 h (14.4x) or 5% in 6 h (6x), open a
# ticket when 10% burns in 3 days (1x); each confirmed by a short window a twelfth as long.
DEFAULT_ALERTING = (
    AlertRule(name="page", long_s=3600, short_s=300, burn_rate=14.4),
    AlertRule(name="page-slow", long_s=6 * 3600, short_s=1800, burn_rate=6.0),
    AlertRule(name="ticket", long_s=3 * 86400, short_s=6 * 3600, burn_rate=1.0))


class NrqlSli(Model):
    """The SLO as New Relic's servers see it: two NRQL queries each returning one number
    (the run appends SINCE and UNTIL for each fault's window)."""

    good: str = Field(min_length=8, description="e.g. SELECT count(*) FROM Transaction "
                                                "WHERE appName = 'lms' AND httpResponseCode < 500")
    total: str = Field(min_length=8, description="e.g. SELECT count(*) FROM Transaction "
                                                 "WHERE appName = 'lms'")


class CloudWatchMetric(Model):
    namespace: str = Field(min_length=1, description="e.g. AWS/ApplicationELB")
    metric: str = Field(min_length=1, description="e.g. RequestCount")
    dimensions: dict[str, str] = Field({}, description="e.g. {LoadBalancer: app/lms/...}")
    stat: str = Field("Sum", description="counts are summed over each window")


# GetMetricData's query ids: a lowercase letter, then letters, digits and underscores.
METRIC_ID = r"^[a-z][a-zA-Z0-9_]*$"
CLOUDWATCH_RESULTS = ("edx_good", "edx_total")  # the ids the run gives good and total


class CloudWatchSli(Model):
    """The SLO as CloudWatch sees it: metrics by query id, and good and total as metric
    math over those ids (an id alone is its metric; `requests - errors` is math), each
    summed over a fault's window through GetMetricData."""

    metrics: dict[Annotated[str, Field(pattern=METRIC_ID)], CloudWatchMetric] = Field(
        min_length=1)
    good: str = Field(min_length=1, description="e.g. requests - errors")
    total: str = Field(min_length=1, description="e.g. requests")

    @field_validator("metrics")
    @classmethod
    def _own_ids(cls, metrics: dict[str, CloudWatchMetric]) -> dict[str, CloudWatchMetric]:
        taken = sorted(set(metrics) & set(CLOUDWATCH_RESULTS))
        if taken:
            raise ValueError(f"the ids {taken} are the run's own (good and total)")
        return metrics


class Slo(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str | None = None
    labels: dict[str, str] = Field(
        {}, description="Prometheus labels its rules carry (a team, a tier), as Sloth's do")
    objective: float = Field(gt=0, lt=1, description="target share of good events")
    indicator: Indicator
    measured: Literal["server", "client"] = Field(
        "server", description="server: the LMS's or CDN's own access logs show it too; "
                              "client: only what learners see does (the load measures it)")
    budget_period_days: float = Field(30, gt=0, le=366,
                                      description="the period the error budget covers")
    alerting: tuple[AlertRule, ...] = Field(DEFAULT_ALERTING, min_length=1)
    mttd_s: int = Field(300, ge=1, le=86400,
                        description="time to detect: fault live -> its alert firing")
    newrelic: NrqlSli | None = Field(None, description="the servers' view through New "
                                                        "Relic (detection.newrelic)")
    cloudwatch: CloudWatchSli | None = Field(None, description="the servers' view through "
                                                               "CloudWatch (the aws section)")
    runbook_url: HttpUrl | None = Field(
        None, description="what the on-call reads when its alert fires (http or https: "
                          "it becomes a link); needed for "
                          "`edx-gameday slo rules` when the SLO is measured server-side")

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name) or name.startswith("__"):
                raise ValueError(f"'{name}' is not a Prometheus label name")
            if name in RESERVED_LABELS or name.startswith("sloth_"):
                raise ValueError(f"the label '{name}' is the rules' own")
        return labels

    @model_validator(mode="after")
    def _unique_rules(self) -> "Slo":
        names = [rule.name for rule in self.alerting]
        if len(set(names)) != len(names):
            raise ValueError(f"alerting rule names must be unique: {names}")
        return self

    @property
    def error_budget(self) -> float:
        return 1 - self.objective

    @property
    def budget_period_s(self) -> float:
        return self.budget_period_days * 86400

    def rule(self, name: str) -> AlertRule | None:
        return next((rule for rule in self.alerting if rule.name == name), None)


class Catalog(Model):
    service: str = Field("openedx", pattern=SERVICE_NAME,
                         description="the service the SLOs are of (Sloth's and OpenSLO's)")
    slos: tuple[Slo, ...] = Field(min_length=1)

    def get(self, name: str, source: Path | str = DEFAULT_CATALOG) -> Slo:
        """The SLO NAME, or a UserError naming SOURCE (the catalog's file)."""
        for slo in self.slos:
            if slo.name == name:
                return slo
        raise UserError(f"no SLO named '{name}' (known: {', '.join(s.name for s in self.slos)})",
                        file=source, field="slos")


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Load and validate a catalog (default: gamedays/slos.yaml, or the shipped one)."""
    path = path or default_file(DEFAULT_CATALOG)
    try:
        catalog = Catalog.model_validate(read_yaml(
            Path(path), "Pass an existing SLO catalog, such as gamedays/slos.yaml"))
    except ValidationError as err:
        raise validation_error(path, err) from None
    names = [s.name for s in catalog.slos]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"SLO names must be unique; repeated: {', '.join(duplicates)}",
                        file=path, field="slos")
    return catalog
