"""A wire-level fake of New Relic's NerdGraph (POST /graphql with an API-Key header) that
answers the GraphQL documents the detection source sends: the account lookup
(actor.account(id) {id name}), the account's alert issues (actor.account.aiIssues.issues
with a timeWindow in epoch milliseconds and cursor pagination: issues and nextCursor), and
NRQL queries (actor.account.nrql(query) {results}, the query ending in SINCE and UNTIL
epoch milliseconds; here a count of the events given for that query in the window). The
issue fields and their meaning (createdAt, activatedAt = createdAt plus the grace period,
acknowledgedAt and acknowledgedBy on the issue itself, closedAt) are those of New Relic's
tutorial, https://docs.newrelic.com/docs/apis/nerdgraph/examples/nerdgraph-issues-api-via-github/.
Errors come as GraphQL's own shape ({"errors": [{"message": ...}]}, the account null for
an account the key may not read); a wrong key is refused with 401. No New Relic can run
here."""

import json
import re

from tests.fakehttp import FakeServer, JsonHandler


class NerdGraphAccount:
    def __init__(self, account_id: int, api_key: str, issues: list[dict],
                 page_size: int = 2, events: dict[str, list[tuple[int, int]]] | None = None
                 ) -> None:
        self.account_id, self.api_key, self.issues = account_id, api_key, issues
        self.page_size = page_size
        self.events = events or {}  # NRQL without its window -> (epoch ms, count) samples
        self.documents: list[dict] = []  # what the client sent, for the tests


def _handler(account: NerdGraphAccount):
    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            account.documents.append(body)
            if self.path != "/graphql":
                self._send(404, {"errors": [{"message": "Not Found"}]})
                return
            if self.headers.get("API-Key") != account.api_key:
                self._send(401, {"errors": [{"message": "Invalid API key"}]})
                return
            query, variables = body["query"], body.get("variables") or {}
            if variables.get("account") != account.account_id:
                self._send(200, {"data": {"actor": {"account": None}}, "errors": [
                    {"message": "Not authorized to access account", "path": ["actor",
                                                                             "account"]}]})
                return
            if "nrql(" in query:
                found = re.fullmatch(r"(?P<base>.+) SINCE (?P<a>\d+) UNTIL (?P<b>\d+)",
                                     variables["nrql"])
                if found is None or found["base"] not in account.events:
                    self._send(200, {"data": {"actor": {"account": {"nrql": None}}}, "errors": [
                        {"message": f"NRQL Syntax Error: {variables['nrql'][:80]}"}]})
                    return
                a, b = int(found["a"]), int(found["b"])
                count = sum(n for t, n in account.events[found["base"]] if a <= t < b)
                self._send(200, {"data": {"actor": {"account": {"nrql": {
                    "results": [{"count": count}]}}}}})
                return
            if "aiIssues" not in query:
                self._send(200, {"data": {"actor": {"account": {
                    "id": account.account_id, "name": "edx-staging"}}}})
                return
            start, end = variables["start"], variables["end"]
            inside = [i for i in account.issues
                      if i["createdAt"] <= end and (i.get("closedAt") or end) >= start]
            offset = int(variables.get("cursor") or 0)
            page = inside[offset:offset + account.page_size]
            more = offset + account.page_size < len(inside)
            self._send(200, {"data": {"actor": {"account": {"aiIssues": {"issues": {
                "issues": page,
                "nextCursor": str(offset + account.page_size) if more else None}}}}}})

    return Handler


class FakeNerdGraph(FakeServer):
    def __init__(self, account: NerdGraphAccount) -> None:
        super().__init__(_handler(account))
        self.account = account


def issues_of(seen: dict) -> tuple[list[dict], dict[str, dict]]:
    """A run's Prometheus firings and pager pages (its detection.json) as New Relic would
    hold them: one issue per firing (created when the alert fired, activated when it
    paged, closed within the grace period when Alertmanager's grouping sent no page of
    its own), and the inventory's conditions mapping each back to its alert and SLO."""
    paged: dict[int, dict] = {}
    for page in seen["pages"]:  # each page to the latest paging firing begun by then
        begun = [i for i, f in enumerate(seen["firings"]) if f["severity"] == "page" and
                 (f["alert"], f["slo"]) == (page["alert"], page["slo"]) and
                 f["start"] <= page["received"] + 2]
        paged[max(begun, key=lambda i: seen["firings"][i]["start"])] = page

    def ms(t: float | None) -> int | None:
        return None if t is None else round(t * 1000)

    issues, conditions = [], {}
    for i, firing in enumerate(seen["firings"]):
        condition = f"{firing['alert']} {firing['severity']}"
        conditions[condition] = {"slo": firing["slo"], "severity": firing["severity"],
                                 "runbook_url": firing["runbook_url"], "alert": firing["alert"]}
        page = paged.get(i, {})
        activated = page.get("received") if firing["severity"] == "page" else firing["start"]
        issues.append({"issueId": page.get("dedup_key") or f"issue-{i}", "title": [condition],
                       "conditionName": [condition], "policyIds": [7], "priority": "CRITICAL",
                       "state": "CLOSED", "createdAt": ms(firing["start"]),
                       "activatedAt": ms(activated), "acknowledgedAt": ms(page.get("acked")),
                       "acknowledgedBy": page.get("acked_by"), "closedAt": ms(firing["end"])})
    return issues, conditions


def through_newrelic(run_dir, inventory: dict, key_env: str) -> dict:
    """Re-read RUN_DIR's alerts and pages through New Relic: its detection.json's firings
    and pages given to a fake NerdGraph as issues, read back by the New Relic source of
    INVENTORY (an inventory's data, given detection.newrelic here; its key in KEY_ENV,
    which the caller sets to 'NRAK-fed'), and detection.json rewritten with what that
    source saw. The report re-rendered from it: its summary."""
    import os
    from dataclasses import asdict

    import yaml

    from chaoslib_edx.context import environment_context
    from chaoslib_edx.report.render import render
    from chaoslib_edx.report.rundir import RunDir

    seen = json.loads((run_dir / "detection.json").read_text())
    issues, conditions = issues_of(seen)
    assert os.environ.get(key_env) == "NRAK-fed"
    with FakeNerdGraph(NerdGraphAccount(123456, "NRAK-fed", issues, page_size=4)) as fake:
        env = run_dir.parent / f"{run_dir.name}-newrelic.yaml"
        env.write_text(yaml.safe_dump({**inventory, "detection": {"newrelic": {
            "account_id": 123456, "api_key_env": key_env, "conditions": conditions,
            "base_url": f"{fake.url}/graphql"}}}))
        source = environment_context(str(env)).platform.newrelic_view()["newrelic"]
        span = RunDir.read(run_dir).timeline
        start, end = span[0]["t"], span[-1]["t"]
        seen.update(source="newrelic", firings=[asdict(f) for f in source.firings(start, end)],
                    pages=[asdict(p) for p in source.pages(start, end)])
    (run_dir / "detection.json").write_text(json.dumps(seen))
    return render(run_dir)
