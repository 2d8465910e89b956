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
