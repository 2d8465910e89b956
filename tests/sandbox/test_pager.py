"""The sandbox's pager speaks PagerDuty's Events API v2 at the wire level: valid events
are accepted (202, dedup_key) and logged with their arrival time, invalid ones get
PagerDuty's 400 "invalid event", and acknowledgements are logged."""

import json
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
def test_a_body_that_is_not_json_is_refused(pager) -> None:
    url, _ = pager
    answer = requests.post(f"{url}/v2/enqueue", data=b"{not json", timeout=5,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and json.loads(answer.text)["status"] == "invalid event"


@pytest.mark.sandbox
def test_edx_gameday_ack_takes_the_sandboxs_open_pages(sandbox) -> None:
    from tests.conftest import run_cli

    key = f"ack-test-{time.time_ns()}"
    answer = requests.post(f"{sandbox.layout.pager_url}/v2/enqueue",
                           json={**TRIGGER, "dedup_key": key}, timeout=5)
    assert answer.status_code == 202
    assert key in open_pages(sandbox.layout.pages_log)
    result = run_cli("ack", "--env", str(sandbox.env_file), "--by", "alice")
    assert result.returncode == 0, result.stderr
    assert "acknowledged by alice" in result.stdout and key in result.stdout
    # Alertmanager may page on the shared sandbox meanwhile: only ours is checked.
    assert key not in open_pages(sandbox.layout.pages_log)
    (page,) = [p for p in read_pages(sandbox.layout.pages_log, 0, 2e9) if p.dedup_key == key]
    assert page.acked_by == "alice"
    again = run_cli("ack", "--env", str(sandbox.env_file))
    assert again.returncode == 0 and key not in again.stdout
