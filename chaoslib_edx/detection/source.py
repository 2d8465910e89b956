"""Where a platform's alerts and pages are read from, and the snapshot a game day keeps
of them in its run directory (detection.json), so its report needs nothing else."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from chaoslib_edx.detection.attribution import Firing, Observed, Page
from chaoslib_edx.detection.pagerlog import PageLog
from chaoslib_edx.detection.prometheus import Prometheus
from chaoslib_edx.slo.catalog import Slo

SNAPSHOT = "detection.json"


class ServerView(Protocol):
    """What a monitoring system's servers saw of an SLO (Prometheus's SLIs, New Relic's
    NRQL, CloudWatch's metrics)."""

    name: str

    def measures(self, slo: Slo) -> bool:
        """Whether this view has a query for SLO."""

    def good_share(self, slo: Slo, start: float, end: float) -> float | None:
        """SLO's good share over [START, END]; None: no data (never 100%)."""


class DetectionSource(ABC):
    """A platform's monitoring (alerts, server-side SLIs) and pager (pages, acks)."""

    name: str
    views: Mapping[str, ServerView] = {}  # the servers' views of SLOs, the first one wins

    @abstractmethod
    def firings(self, start: float, end: float) -> list[Firing]:
        """Alerts that fired in [START, END]."""

    @abstractmethod
    def pages(self, start: float, end: float) -> list[Page]:
        """Pages that came in [START, END], with their acknowledgements."""

    def measures(self, slo: Slo) -> bool:
        """Whether the servers' view of SLO can be read here."""
        return any(view.measures(slo) for view in self.views.values())

    def good_share(self, slo: Slo, start: float, end: float) -> float | None:
        """SLO's good share over [START, END] as the servers saw it; None: unknown."""
        view = next((v for v in self.views.values() if v.measures(slo)), None)
        return view.good_share(slo, start, end) if view is not None else None

    def blind(self, start: float, end: float) -> list[tuple[float, float]]:
        """When in [START, END] the monitoring was not watching (epoch intervals): there,
        no alert could have fired, and what the servers saw is unknown."""
        return []

    pages_skipped = 0  # lines of the pager's log that were not events

    def check(self) -> None:
        """Before a game day: a UserError naming the field when it cannot be read."""


class PrometheusAndPager(DetectionSource):
    """The sandbox's: Prometheus's ALERTS series and SLIs, the pager's log."""

    name = "prometheus"

    def __init__(self, prometheus_url: str, pages_log: Path) -> None:
        self.prometheus, self.pages_log = Prometheus(prometheus_url), pages_log
        self.views = {"prometheus": self.prometheus}

    def firings(self, start: float, end: float) -> list[Firing]:
        return self.prometheus.firings(start, end)

    def pages(self, start: float, end: float) -> list[Page]:
        log = PageLog(self.pages_log)
        self.pages_skipped = log.skipped
        return log.pages(start, end)

    def blind(self, start: float, end: float) -> list[tuple[float, float]]:
        return self.prometheus.blind(start, end)


class AlarmsAndPager(DetectionSource):
    """A cloud platform's: alarms with a firings(start, end) (CloudWatch, New Relic), a
    pager with pages(start, end) and check() (PagerDuty, New Relic), either may be missing
    and one source may be both (New Relic's issues); and the servers' VIEWS of SLOs."""

    def __init__(self, alarms: object | None, pager: object | None,
                 views: Mapping[str, ServerView] | None = None) -> None:
        self.alarms, self.pager, self.views = alarms, pager, views or {}
        self.name = " and ".join(dict.fromkeys(part.name for part in (alarms, pager) if part))

    def firings(self, start: float, end: float) -> list[Firing]:
        return self.alarms.firings(start, end) if self.alarms else []

    def pages(self, start: float, end: float) -> list[Page]:
        return self.pager.pages(start, end) if self.pager else []

    def blind(self, start: float, end: float) -> list[tuple[float, float]]:
        return self.alarms.blind(start, end) if self.alarms else []

    def check(self) -> None:
        parts = (self.alarms, self.pager, *self.views.values())
        for part in dict.fromkeys(p for p in parts if p is not None):
            if hasattr(part, "check"):
                part.check()


def snapshot(source: DetectionSource, spans: list[Observed], slos: list[Slo],
             start: float, end: float) -> dict:
    """What SOURCE saw over a run of START..END, JSON-ready: every firing, every page, and
    per experiment when the source was blind and the server-side good share of each
    SLO the servers' views measure (None where it was blind or had no data: unknown, not
    good)."""
    blind = {span.experiment: source.blind(span.live, span.until) for span in spans}
    server = {span.experiment: {slo.name: None if blind[span.experiment] else
                                source.good_share(slo, span.live, span.until)
                                for slo in slos if source.measures(slo)}
              for span in spans}
    pages = source.pages(start, end)
    return {"source": source.name,
            "firings": [asdict(f) for f in source.firings(start, end)],
            "pages": [asdict(p) for p in pages], "pages_skipped": source.pages_skipped,
            "blind": {name: [list(b) for b in spots] for name, spots in blind.items()},
            "server_slos": server}
