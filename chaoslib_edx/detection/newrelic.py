"""New Relic as a detection source: the account's alert issues through NerdGraph, New
Relic's GraphQL API (see its tutorial on issue queries:
https://docs.newrelic.com/docs/apis/nerdgraph/examples/nerdgraph-issues-api-via-github/).

An issue is a firing from its creation (createdAt: its condition violated) to its close
(closedAt, or the end of the window while open), named by its first condition, whose SLO,
severity and reported name the inventory maps as for CloudWatch alarms. A paging one
(severity page) is also a page, received at its activation (activatedAt: createdAt plus
the grace period, when notifications go out; an issue closed within its grace period never
paged). The issue is the authoritative record of the acknowledgement (acknowledgedAt,
acknowledgedBy: set when someone acknowledges it in New Relic or through a workflow's
ack), so the page's ack is the issue's. requests rather than a GraphQL client: two
documents, no schema to load.
"""

from collections.abc import Iterator

import requests

from chaoslib_edx.detection.attribution import Firing, Page
from chaoslib_edx.errors import UserError
from chaoslib_edx.slo.catalog import Slo

ENDPOINTS = {"US": "https://api.newrelic.com/graphql", "EU": "https://api.eu.newrelic.com/graphql"}
TIMEOUT_S = 20
MAX_PAGES = 50  # of issues, each as many as NerdGraph returns (a bound on a broken cursor)

ACCOUNT = "query($account: Int!) { actor { account(id: $account) { id name } } }"
ISSUES = """query($account: Int!, $start: EpochMilliseconds!, $end: EpochMilliseconds!,
      $cursor: String) {
  actor { account(id: $account) { aiIssues {
    issues(timeWindow: {startTime: $start, endTime: $end}, cursor: $cursor) {
      issues { issueId title conditionName policyIds priority state createdAt activatedAt
               acknowledgedAt acknowledgedBy closedAt }
      nextCursor
    } } } }
}"""


NRQL = "query($account: Int!, $nrql: Nrql!) { actor { account(id: $account) { nrql(query: " \
       "$nrql) { results } } } }"


class NewRelicIssues:
    """ACCOUNT's issues (of POLICY_IDS when given); CONDITIONS maps a condition name to
    (slo, severity, runbook url, the alert name reports show)."""

    name = "newrelic"

    def __init__(self, api_key: str, account: int,
                 conditions: dict[str, tuple[str, str, str, str]],
                 source: str, region: str = "US", policy_ids: list[int] | None = None,
                 url: str | None = None,
                 data_nrql: str = "SELECT count(*) FROM Transaction") -> None:
        self.account, self.conditions, self.source = account, conditions, source
        self.data_nrql = data_nrql
        self.policy_ids = set(policy_ids or [])
        self.url = url or ENDPOINTS[region]
        self.session = requests.Session()
        self.session.headers.update({"API-Key": api_key, "Content-Type": "application/json"})

    def _query(self, document: str, **variables: object) -> dict:
        """DOCUMENT's data; a UserError naming the field New Relic refused."""
        try:
            response = self.session.post(self.url, json={"query": document,
                                                          "variables": variables},
                                         timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise UserError(f"NerdGraph cannot be reached at {self.url}: {exc}",
                            file=self.source, field="detection.newrelic.region") from None
        if response.status_code in (401, 403):
            raise UserError(f"NerdGraph refused the API key ({response.status_code})",
                            file=self.source, field="detection.newrelic.api_key_env",
                            fix="A User key (NRAK-...) of a user who may read the account")
        body = response.json() if response.content else {}
        errors = [e.get("message", "") for e in body.get("errors") or []]
        if any("api key" in e.lower() for e in errors):
            raise UserError(f"NerdGraph refused the API key: {'; '.join(errors)}",
                            file=self.source, field="detection.newrelic.api_key_env")
        if errors or not response.ok:
            raise UserError(f"NerdGraph: {'; '.join(errors) or response.status_code}",
                            file=self.source, field="detection.newrelic.account_id")
        return body["data"]

    def check(self) -> None:
        """The key works and may read the account; a UserError naming the field else."""
        account = self._query(ACCOUNT, account=self.account)["actor"]["account"]
        if account is None:
            raise UserError(f"NerdGraph knows no account {self.account} this key may read",
                            file=self.source, field="detection.newrelic.account_id")

    def _issues(self, start: float, end: float) -> Iterator[dict]:
        cursor = None
        for _ in range(MAX_PAGES):
            page = self._query(ISSUES, account=self.account, start=int(start * 1000),
                               end=int(end * 1000), cursor=cursor)
            account = page["actor"]["account"]
            if account is None:
                raise UserError(f"NerdGraph knows no account {self.account} this key may "
                                "read", file=self.source, field="detection.newrelic.account_id")
            found = account["aiIssues"]["issues"]
            for issue in found["issues"]:
                if not self.policy_ids or self.policy_ids & set(issue.get("policyIds") or []):
                    yield issue
            cursor = found.get("nextCursor")
            if not cursor:
                return

    def _mapped(self, issue: dict) -> tuple[str, str, str, str]:
        """(alert name, slo, severity, runbook) of ISSUE; an unmapped condition has no SLO
        (its alert is listed as unrelated, never counted as detection)."""
        condition = next(iter(issue.get("conditionName") or []), None) or \
            next(iter(issue.get("title") or []), "?")
        slo, severity, runbook, alert = self.conditions.get(condition, ("", "", "", ""))
        return alert or condition, slo, severity, runbook

    def firings(self, start: float, end: float) -> list[Firing]:
        found = []
        for issue in self._issues(start, end):
            alert, slo, severity, runbook = self._mapped(issue)
            closed = issue.get("closedAt")
            found.append(Firing(alert, slo, severity, issue["createdAt"] / 1000,
                                closed / 1000 if closed is not None else end, runbook))
        return sorted(found, key=lambda f: f.start)

    def pages(self, start: float, end: float) -> list[Page]:
        found = []
        for issue in self._issues(start, end):
            alert, slo, severity, _ = self._mapped(issue)
            if issue.get("activatedAt") is None or severity != "page":
                continue  # closed within its grace period, or not a paging condition
            acked = issue.get("acknowledgedAt")
            found.append(Page(alert, slo, issue["issueId"], issue["activatedAt"] / 1000,
                              acked / 1000 if acked is not None else None,
                              issue.get("acknowledgedBy") if acked is not None else None))
        return sorted(found, key=lambda p: p.received)

    def _number(self, nrql: str, start: float, end: float) -> float | None:
        """The one number NRQL gives over [START, END) (None: no result)."""
        query = f"{nrql} SINCE {int(start * 1000)} UNTIL {int(end * 1000)}"
        account = self._query(NRQL, account=self.account, nrql=query)["actor"]["account"]
        results = (account or {}).get("nrql", {}).get("results") or []
        values = [v for v in (results[0].values() if results else [])
                  if isinstance(v, (int, float))]
        return float(values[0]) if values else None

    def measures(self, slo: Slo) -> bool:
        return slo.newrelic is not None

    def good_share(self, slo: Slo, start: float, end: float) -> float | None:
        """SLO's good share over [START, END) by its NRQL queries; None without them or
        without events (no data is never 100%)."""
        if slo.newrelic is None:
            return None
        total = self._number(slo.newrelic.total, start, end)
        if not total:
            return None
        good = self._number(slo.newrelic.good, start, end) or 0.0
        return max(0.0, min(1.0, good / total))

    def blind(self, start: float, end: float) -> list[tuple[float, float]]:
        """[START, END] when the account received nothing in it (data_nrql counts 0): no
        alert could fire, what the servers saw is unknown."""
        return [] if self._number(self.data_nrql, start, end) else [(start, end)]
