"""The sandbox's pager: a stand-in for PagerDuty's Events API v2 on 127.0.0.1.

No PagerDuty can run here, so this is a fake at the wire level only: Alertmanager's
own pagerduty integration posts real Events v2 bodies to POST /v2/enqueue, which are
checked as PagerDuty checks them (202 with status, message and dedup_key; 400 "invalid
event" otherwise) and kept, one JSON line each with the time they arrived, in
<state>/logs/pages.jsonl. `edx-gameday ack` acknowledges through POST /ack, recorded in
the same file, as PagerDuty's log entries record who acknowledged and when; the
detection side reads it (detection.pagerlog).

The standard library's server is enough for two JSON routes on loopback.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


def problems(event: object) -> list[str]:
    """What PagerDuty would refuse in an Events v2 body (empty: valid)."""
    if not isinstance(event, dict):
        return ["the event is not a JSON object"]
    errors = []
    if not isinstance(event.get("routing_key"), str) or len(event["routing_key"]) != 32:
        errors.append("'routing_key' must be a 32-character string")
    if event.get("event_action") not in ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    if event.get("event_action") == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is required for a trigger")
        else:
            for key in ("summary", "source"):
                if not isinstance(payload.get(key), str) or not payload[key]:
                    errors.append(f"'payload.{key}' is required")
            if payload.get("severity") not in SEVERITIES:
                errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    elif not event.get("dedup_key"):
        errors.append("'dedup_key' is required to acknowledge or resolve")
    return errors


class Pager:
    """The pages received and acknowledged, appended to LOG as they happen."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._lock = threading.Lock()

    def record(self, entry: dict) -> dict:
        entry = {"received": round(time.time(), 3), **entry}
        with self._lock, self.log.open("a") as out:
            out.write(json.dumps(entry) + "\n")
        return entry


def _handler(pager: Pager) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            except ValueError:
                return self._answer(400, {"status": "invalid event",
                                          "message": "Event object is invalid",
                                          "errors": ["the body is not JSON"]})
            if self.path == "/v2/enqueue":
                errors = problems(body)
                if errors:
                    return self._answer(400, {"status": "invalid event",
                                              "message": "Event object is invalid",
                                              "errors": errors})
                dedup = body.get("dedup_key") or f"sandbox-{time.time_ns()}"
                pager.record({"kind": "event", "action": body["event_action"],
                              "dedup_key": dedup, "payload": body.get("payload", {}),
                              "links": body.get("links", [])})
                return self._answer(202, {"status": "success", "message": "Event processed",
                                          "dedup_key": dedup})
            if self.path == "/ack" and isinstance(body, dict) and body.get("dedup_key"):
                entry = pager.record({"kind": "ack", "dedup_key": body["dedup_key"],
                                      "by": str(body.get("by", "unknown"))})
                return self._answer(200, entry)
            return self._answer(404, {"status": "not found"})

        def _answer(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt: str, *args: object) -> None:
            """Quiet: the pages log is the record."""

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(Pager(args.log)))
    server.serve_forever()


if __name__ == "__main__":
    main()
