"""Read what Prometheus saw during a run: when each alert fired (its ALERTS series) and
each SLO's server-side indicator over a span, through its HTTP API."""

import math

import requests

from chaoslib_edx.detection.attribution import Firing
from chaoslib_edx.slo.catalog import Slo
from chaoslib_edx.slo.rules import sli_error_ratio

MAX_POINTS = 10_000  # Prometheus refuses a range query of more than 11,000 per series


class Prometheus:
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

    def query_range(self, query: str, start: float, end: float, step: int) -> list[dict]:
        """A range query's series (each with 'metric' and 'values' [[t, "v"], ...])."""
        step = max(step, math.ceil((end - start) / MAX_POINTS))
        return self._get("/api/v1/query_range", query=query, start=f"{start:.3f}",
                         end=f"{end:.3f}", step=f"{step}s")["result"]

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
