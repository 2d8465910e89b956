"""The sandbox's pager speaks PagerDuty's Events API v2 at the wire level: valid events
are accepted (202, dedup_key) and logged with their arrival time, invalid ones get
PagerDuty's 400 "invalid event", and acknowledgements are logged."""

import json
import socket
import subprocess
import sys
import time

import pytest
import requests

from chaoslib_edx.detection.pagerlog import open_pages, read_pages
from chaoslib_edx.ports import free_block, listening
from chaoslib_edx.sandbox.monitoring import ROUTING_KEY
from tests.sandbox.helpers import eventually


@pytest.fixture
def pager(tmp_path):
    port = free_block(1)
    log = tmp_path / "pages.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "chaoslib_edx.sandbox.pager",
                             "--port", str(port), "--log", str(log)])
    try:
        eventually(lambda: listening(port), timeout=10)
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.terminate()
        proc.wait(10)


def _nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


TRIGGER = {"routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "grp-1",
           "payload": {"summary": "Course video delivery: error budget burning",
                       "source": "alertmanager", "severity": "critical",
                       "custom_details": {"alertname": "VideoDeliveryBudgetBurn",
                                          "slo": "video-delivery"}}}


@pytest.mark.integration
def test_a_trigger_is_accepted_logged_and_acknowledged(pager) -> None:
    url, log = pager
    answer = requests.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5)
    assert answer.status_code == 202
    assert answer.json() == {"status": "success", "message": "Event processed",
                             "dedup_key": "grp-1"}
    assert open_pages(log) == ["grp-1"]
    ack = requests.post(f"{url}/ack", json={"dedup_key": "grp-1", "by": "alice"}, timeout=5)
    assert ack.status_code == 200
    (page,) = read_pages(log, 0, 2e9)
    assert page.alert == "VideoDeliveryBudgetBurn" and page.acked_by == "alice"
    assert page.acked >= page.received
    assert open_pages(log) == []


@pytest.mark.integration
@pytest.mark.parametrize("change, error", [
    ({"routing_key": "short"}, "routing_key"),
    ({"event_action": "escalate"}, "event_action"),
    ({"payload": {"summary": "x", "source": "y", "severity": "page"}}, "payload.severity"),
    ({"payload": {"source": "y", "severity": "critical"}}, "payload.summary"),
])
def test_an_invalid_event_gets_pagerdutys_400(pager, change: dict, error: str) -> None:
    url, log = pager
    answer = requests.post(f"{url}/v2/enqueue", json={**TRIGGER, **change}, timeout=5)
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == "invalid event" and any(error in e for e in body["errors"])
    assert not log.exists() or read_pages(log, 0, 2e9) == []


@pytest.mark.integration
@pytest.mark.parametrize("change, error", [
    ({"payload": {**TRIGGER["payload"], "custom_details": "alertname=x"}},
     "payload.custom_details' must be an object"),
    ({"dedup_key": ["grp-1"]}, "'dedup_key' must be a string"),
    ({"dedup_key": "k" * 256}, "at most 255 characters"),
    ({"payload": {**TRIGGER["payload"], "custom_details": {"a": _nested(40)}}},
     "nests deeper than 32"),
    ({"links": "http://x"}, "'links' must be a list of objects"),
])
def test_events_outside_the_documented_schema_are_refused(pager, change: dict,
                                                          error: str) -> None:
    """PagerDuty's Events v2 schema: what it documents is checked, nothing else poisons
    the log that `ack` and the reports read."""
    url, log = pager
    answer = requests.post(f"{url}/v2/enqueue", json={**TRIGGER, **change}, timeout=5)
    assert answer.status_code == 400, answer.text
    assert any(error in e for e in answer.json()["errors"]), answer.json()
    assert not log.exists() or read_pages(log, 0, 2e9) == []


@pytest.mark.integration
def test_an_oversized_or_bottomless_body_gets_an_answer(pager) -> None:
    """50 MB is refused unread (the limit is 512 KB); 100,000 levels of nesting, which
    would exhaust the parser, is refused too, and the pager answers the next event."""
    url, log = pager
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 52428800\r\n\r\n" + b"[" * 4096)
        head = b""
        while chunk := conn.recv(4096):  # the pager closes the connection after it
            head += chunk
        head = head.decode()
    assert head.startswith("HTTP/1.0 400") and "at most 524288 bytes" in head, head
    deep = b"[" * 100_000 + b"]" * 100_000
    answer = requests.post(f"{url}/v2/enqueue", data=deep, timeout=5,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "nests too deep" in answer.text
    assert requests.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 202
    assert open_pages(log) == ["grp-1"]


@pytest.mark.integration
def test_a_body_that_is_not_json_is_refused(pager) -> None:
    url, _ = pager
    answer = requests.post(f"{url}/v2/enqueue", data=b"{not json", timeout=5,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and json.loads(answer.text)["status"] == "invalid event"


@pytest.mark.sandbox
def test_edx_gameday_ack_takes_the_sandboxs_open_pages(sandbox) -> None:
    from tests.conftest import run_cli

    key = f"ack-test-{time.time_ns()}"
    # A line no checked pager writes (an older one took anything): skipped and counted.
    with sandbox.layout.pages_log.open("a") as out:
        out.write('{"kind": "event", "action": "trigger", "dedup_key": ["x"]}\nnot json\n')
    answer = requests.post(f"{sandbox.layout.pager_url}/v2/enqueue",
                           json={**TRIGGER, "dedup_key": key}, timeout=5)
    assert answer.status_code == 202
    assert key in open_pages(sandbox.layout.pages_log)
    result = run_cli("ack", "--env", str(sandbox.env_file), "--by", "alice")
    assert result.returncode == 0, result.stderr
    assert "acknowledged by alice" in result.stdout and key in result.stdout
    assert "2 lines of the pager's log are not events and were skipped" in result.stderr
    # Alertmanager may page on the shared sandbox meanwhile: only ours is checked.
    assert key not in open_pages(sandbox.layout.pages_log)
    (page,) = [p for p in read_pages(sandbox.layout.pages_log, 0, 2e9) if p.dedup_key == key]
    assert page.acked_by == "alice"
    again = run_cli("ack", "--env", str(sandbox.env_file))
    assert again.returncode == 0 and key not in again.stdout
