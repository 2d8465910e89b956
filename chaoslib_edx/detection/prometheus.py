"""Read what Prometheus saw during a run: when each alert fired (its ALERTS series), each
SLO's server-side indicator over a span, and when it was not watching (blind), through
its HTTP API."""

import math
import re

import requests

from chaoslib_edx.detection.attribution import Firing, merged
from chaoslib_edx.routes import SERVED_BY
from chaoslib_edx.slo.catalog import Slo
from chaoslib_edx.slo.rules import REQUESTS, sli_error_ratio

MAX_POINTS = 10_000  # Prometheus refuses a range query of more than 11,000 per series
# A scrape is missing when the next comes this many intervals late (and 5 s at least):
# Prometheus frozen, restarting or starved. Later scrapes alone are jitter.
GAP_INTERVALS, GAP_MIN_S = 3, 5.0


class Prometheus:
    name = "prometheus"

    def __init__(self, url: str, timeout: float = 10) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def _get(self, path: str, **params: object) -> dict:
        response = requests.get(f"{self.url}{path}", params=params, timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path}: {body.get('error', body)}")
        return body["data"]

    def runbooks(self) -> dict[str, str]:
        """alertname -> the runbook_url its loaded rule carries."""
        found = {}
        for group in self._get("/api/v1/rules", type="alert")["groups"]:
            for rule in group["rules"]:
                url = rule.get("annotations", {}).get("runbook_url")
                if url:
                    found[rule["name"]] = url
        return found

    def firings(self, start: float, end: float) -> list[Firing]:
        """Each alert's firing intervals in [START, END]; samples closer than two steps
        apart are one interval (an evaluation that came late is not a resolution)."""
        step = max(1, math.ceil((end - start) / MAX_POINTS))
        result = self.query_range('ALERTS{alertstate="firing"}', start, end, step)
        runbooks = self.runbooks()
        found = []
        for series in result:
            labels = series["metric"]
            times = [float(t) for t, _ in series["values"]]
            first = previous = times[0]
            for t in times[1:] + [math.inf]:
                if t - previous > 2 * step:
                    found.append(Firing(labels["alertname"], labels.get("slo", ""),
                                        labels.get("severity", ""), first, previous,
                                        runbooks.get(labels["alertname"], "")))
                    first = t
                previous = t
        return sorted(found, key=lambda f: f.start)

    def blind(self, start: float, end: float) -> list[tuple[float, float]]:
        """When Prometheus was not watching in [START, END] (epoch intervals): gaps in its
        scrapes of any target (it did not scrape at all), and the times a target that
        serves an SLI (the edges' access logs, through mtail) was down. Raw samples, not a
        range query: a range query fills a gap with the last sample for 5 minutes."""
        window = f"{max(1, math.ceil(end - start))}s"
        series = self._get("/api/v1/query", query=f"up[{window}]", time=f"{end:.3f}")["result"]
        if not series:
            return [(start, end)]
        edges = "|".join(sorted(set(SERVED_BY.values())))  # the SLIs' tiers: lb, cdn
        sli = {(r["metric"].get("job"), r["metric"].get("instance")) for r in self._get(
            "/api/v1/query", query=f'group by (job, instance) (last_over_time('
                                   f'{REQUESTS}{{tier=~"{edges}"}}[{window}]))',
            time=f"{end:.3f}")["result"]}
        intervals = self._intervals()
        blind = []
        for one in series:
            labels = one["metric"]
            samples = [(float(t), v) for t, v in one["values"]]
            interval = intervals.get((labels.get("job"), labels.get("instance")), 1.0)
            late = max(GAP_INTERVALS * interval, GAP_MIN_S)
            times = [start - interval] + [t for t, _ in samples] + [end + interval]
            blind += [(a + interval, b) for a, b in zip(times, times[1:]) if b - a > late]
            if (labels.get("job"), labels.get("instance")) in sli:
                blind += [(t, t + interval) for t, v in samples if float(v) == 0]
        return [(max(a, start), min(b, end)) for a, b in merged(blind) if a < end and b > start]

    def _intervals(self) -> dict[tuple[str, str], float]:
        """Each active target's scrape interval, in seconds."""
        found = {}
        for target in self._get("/api/v1/targets", state="active")["activeTargets"]:
            labels, text = target.get("labels", {}), target.get("scrapeInterval", "1s")
            found[labels.get("job"), labels.get("instance")] = _seconds(text)
        return found

    def query_range(self, query: str, start: float, end: float, step: int) -> list[dict]:
        """A range query's series (each with 'metric' and 'values' [[t, "v"], ...])."""
        step = max(step, math.ceil((end - start) / MAX_POINTS))
        return self._get("/api/v1/query_range", query=query, start=f"{start:.3f}",
                         end=f"{end:.3f}", step=f"{step}s")["result"]

    def measures(self, slo: Slo) -> bool:
        """The access logs' SLIs: those of SLOs the servers see at all."""
        return slo.measured == "server"

    def good_share(self, slo: Slo, start: float, end: float) -> float | None:
        """The share of SLO's good events the servers saw over [START, END] (None: no
        traffic, or a window too short to hold two samples)."""
        window = int(end - start)
        if window < 2:
            return None
        data = self._get("/api/v1/query", query=sli_error_ratio(slo, window), time=f"{end:.3f}")
        values = [float(r["value"][1]) for r in data["result"]]
        if not values or math.isnan(values[0]):
            return None
        return 1 - values[0]


def _seconds(duration: str) -> float:
    """A Prometheus duration ('15s', '1m30s', '500ms') in seconds; 1 s if unreadable."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", duration)
    return sum(float(n) * units[u] for n, u in parts) or 1.0
