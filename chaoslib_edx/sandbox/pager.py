"""The sandbox's pager: a stand-in for PagerDuty's Events API v2 on 127.0.0.1.

No PagerDuty can run here, so this is a fake at the wire level only: Alertmanager's
own pagerduty integration posts real Events v2 bodies to POST /v2/enqueue, which are
checked against the documented schema and limits as PagerDuty checks them (202 with
status, message and dedup_key; 400 "invalid event" otherwise: so no event the real one
would refuse poisons the log that `ack` and the reports read) and kept, one JSON line each with the time they arrived, in
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
# PagerDuty's documented limits: a 512 KB event, a dedup key of 255 characters, a summary
# of 1024. It documents no nesting limit; one bounds the parse (100,000 levels would
# exhaust the parser's recursion and the request would go unanswered).
MAX_BODY, MAX_DEDUP_KEY, MAX_SUMMARY, MAX_DEPTH = 512 * 1024, 255, 1024, 32


def depth(value: object) -> int:
    """How deeply VALUE nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level + 1)
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict)
                                                   else value))
    return deepest


def problems(event: object) -> list[str]:
    """What PagerDuty would refuse in an Events v2 body (empty: valid)."""
    if not isinstance(event, dict):
        return ["the event is not a JSON object"]
    errors = []
    if depth(event) > MAX_DEPTH:
        errors.append(f"the event nests deeper than {MAX_DEPTH} levels")
    if not isinstance(event.get("routing_key"), str) or len(event["routing_key"]) != 32:
        errors.append("'routing_key' must be a 32-character string")
    if event.get("event_action") not in ACTIONS:
        errors.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > MAX_DEDUP_KEY):
        errors.append(f"'dedup_key' must be a string of at most {MAX_DEDUP_KEY} characters")
    for key in ("links", "images"):
        if key in event and not (isinstance(event[key], list)
                                 and all(isinstance(item, dict) for item in event[key])):
            errors.append(f"'{key}' must be a list of objects")
    if event.get("event_action") == "trigger":
        errors += _payload_problems(event.get("payload"))
    elif not dedup:
        errors.append("'dedup_key' is required to acknowledge or resolve")
    return errors


def _payload_problems(payload: object) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is required for a trigger"]
    errors = []
    for key in ("summary", "source"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            errors.append(f"'payload.{key}' is required")
    if isinstance(payload.get("summary"), str) and len(payload["summary"]) > MAX_SUMMARY:
        errors.append(f"'payload.summary' must be at most {MAX_SUMMARY} characters")
    if payload.get("severity") not in SEVERITIES:
        errors.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    for key in ("component", "group", "class", "timestamp"):
        if key in payload and not isinstance(payload[key], str):
            errors.append(f"'payload.{key}' must be a string")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        errors.append("'payload.custom_details' must be an object")
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
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:  # unread: the connection closes after the 400
                self.close_connection = True
                return self._invalid(f"the body must have a Content-Length of at most "
                                     f"{MAX_BODY} bytes")
            try:
                body = json.loads(self.rfile.read(length))
            except (ValueError, RecursionError):
                return self._invalid("the body is not JSON (or nests too deep to read)")
            if self.path == "/v2/enqueue":
                errors = problems(body)
                if errors:
                    return self._invalid(*errors)
                dedup = body.get("dedup_key") or f"sandbox-{time.time_ns()}"
                pager.record({"kind": "event", "action": body["event_action"],
                              "dedup_key": dedup, "payload": body.get("payload", {}),
                              "links": body.get("links", [])})
                return self._answer(202, {"status": "success", "message": "Event processed",
                                          "dedup_key": dedup})
            if self.path == "/ack":
                if not isinstance(body, dict) or not isinstance(body.get("dedup_key"), str) \
                        or not 0 < len(body["dedup_key"]) <= MAX_DEDUP_KEY:
                    return self._invalid(f"'dedup_key' must be a string of 1 to "
                                         f"{MAX_DEDUP_KEY} characters")
                entry = pager.record({"kind": "ack", "dedup_key": body["dedup_key"],
                                      "by": str(body.get("by", "unknown"))[:200]})
                return self._answer(200, entry)
            return self._answer(404, {"status": "not found"})

        def _invalid(self, *errors: str) -> None:
            self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                               "errors": list(errors)})

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
