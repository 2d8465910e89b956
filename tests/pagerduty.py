"""A small fake of PagerDuty's REST API v2 over HTTP, for the official `pagerduty` client.

No PagerDuty can run here, so this serves, on 127.0.0.1 and an ephemeral port, the calls
the detection reader makes: read a service, list a service's incidents in a time span,
list an incident's log entries. It checks the token header as PagerDuty does (401), and
pages its lists one item at a time so the client's pagination is exercised. The client
accepts only https: it is served over TLS with a certificate made for the test."""

from urllib.parse import parse_qs, urlparse

from tests.fakehttp import FakeServer, JsonHandler

TOKEN = "test-token-0123456789"


class PagerDutyAccount:
    """One service's incidents; LOGS: incident id -> its log entries."""

    def __init__(self, service_id: str, incidents: list[dict], logs: dict[str, list[dict]]):
        self.service_id, self.incidents, self.logs = service_id, incidents, logs
        self.queries: list[dict] = []


def _handler(account: PagerDutyAccount):
    class Handler(JsonHandler):
        def _page(self, key: str, items: list[dict], query: dict) -> None:
            offset = int(query.get("offset", ["0"])[0])
            self._send(200, {key: items[offset:offset + 1], "limit": 1, "offset": offset,
                             "more": offset + 1 < len(items), "total": None})

        def do_GET(self) -> None:  # noqa: N802
            if self.headers.get("Authorization") != f"Token token={TOKEN}":
                return self._send(401, {"error": {"message": "Unauthorized", "code": 2006}})
            url = urlparse(self.path)
            query = parse_qs(url.query)
            parts = url.path.strip("/").split("/")
            if parts[:1] == ["services"] and len(parts) == 2:
                if parts[1] != account.service_id:
                    return self._send(404, {"error": {"message": "Not Found", "code": 2100}})
                return self._send(200, {"service": {"id": parts[1], "type": "service"}})
            if parts == ["incidents"]:
                account.queries.append(query)
                wanted = query.get("service_ids[]", [])
                items = [i for i in account.incidents if i["service"]["id"] in wanted]
                return self._page("incidents", items, query)
            if len(parts) == 3 and parts[0] == "incidents" and parts[2] == "log_entries":
                return self._page("log_entries", account.logs.get(parts[1], []), query)
            return self._send(404, {"error": {"message": "Not Found", "code": 2100}})

    return Handler


class FakePagerDuty(FakeServer):
    """Over https (the client refuses anything else) with TLS's certificate and key."""

    def __init__(self, account: PagerDutyAccount, tls: tuple) -> None:
        self.account = account
        super().__init__(_handler(account), tls)
