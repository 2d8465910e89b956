"""The sandbox's Alertmanager configuration, judged by Alertmanager itself: amtool accepts
it and routes pages to the pager and tickets to their own receiver, and a real
Alertmanager started on it keeps an SLO's ticket silent while that SLO's page fires."""

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from chaoslib_edx.environment import SandboxSettings
from chaoslib_edx.ports import free_block
from chaoslib_edx.sandbox import monitoring
from chaoslib_edx.sandbox.configs import render
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def config(tmp_path: Path) -> tuple[Layout, Path]:
    """The alertmanager.yml `sandbox up` writes, for a sandbox of its own ports."""
    settings = SandboxSettings(state_dir=str(tmp_path / "state"),
                               port_base=free_block(SandboxSettings.PORT_SPAN))
    layout = Layout.from_settings(settings)
    path = tmp_path / "alertmanager.yml"
    path.write_text(monitoring.files(layout, render)["alertmanager.yml"])
    return layout, path


def _amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["amtool", *args], capture_output=True, text=True, timeout=60)


def test_amtool_accepts_the_config_and_routes_each_severity(config) -> None:
    _, path = config
    check = _amtool("check-config", str(path))
    assert check.returncode == 0 and "SUCCESS" in check.stdout, check.stdout + check.stderr
    assert "1 inhibit rules" in check.stdout, check.stdout
    for severity, receiver in (("page", "pager"), ("ticket", "tickets")):
        routed = _amtool("config", "routes", "test", f"--config.file={path}",
                         "alertname=LmsAvailabilityBudgetBurn", "slo=lms-availability",
                         f"severity={severity}")
        assert routed.returncode == 0, routed.stdout + routed.stderr
        assert routed.stdout.split() == [receiver], (severity, routed.stdout)


def _alert(slo: str, severity: str, rule: str, ends: datetime) -> dict:
    return {"labels": {"alertname": "BudgetBurn", "slo": slo, "severity": severity,
                       "rule": rule},
            "annotations": {"summary": f"{slo} burning ({rule})",
                            "runbook_url": f"https://runbooks.example.com/{slo}"},
            "startsAt": datetime.now(timezone.utc).isoformat(), "endsAt": ends.isoformat()}


def test_a_firing_page_silences_the_ticket_of_its_slo_only(config, tmp_path: Path) -> None:
    """Both pages of lms-availability (the fast and the slow tier: one notification, whose
    summary the pager requires although the two differ), its ticket and a ticket of
    video-delivery: only the lms ticket is inhibited (by the page), and it notifies again
    once the page resolves. The pager is the sandbox's, which checks events as
    PagerDuty's Events API v2 does."""
    layout, path = config
    port = layout.port("alertmanager")
    url = f"http://127.0.0.1:{port}"
    pages = tmp_path / "pages.jsonl"
    pager = subprocess.Popen([sys.executable, "-m", "chaoslib_edx.sandbox.pager", "--port",
                              str(layout.port("pager")), "--log", str(pages)])
    log = tmp_path / "alertmanager.log"
    server = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={path}",
         f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        wait_until(lambda: requests.get(f"{url}/-/ready", timeout=2).status_code == 200,
                   timeout=30, what="Alertmanager ready", ignore=(requests.RequestException,))
        later = datetime.now(timezone.utc) + timedelta(minutes=10)
        page = _alert("lms-availability", "page", "page", later)
        slow = _alert("lms-availability", "page", "page-slow", later)
        tickets = [_alert("lms-availability", "ticket", "ticket", later),
                   _alert("video-delivery", "ticket", "ticket", later)]
        posted = requests.post(f"{url}/api/v2/alerts", json=[page, slow, *tickets], timeout=5)
        assert posted.status_code == 200, posted.text

        # One page reached the pager, with a summary and the runbook.
        events = wait_until(lambda: [json.loads(line) for line in pages.read_text().splitlines()]
                            if pages.exists() else [], timeout=30, what="a page at the pager")
        (event,) = [e for e in events if e["action"] == "trigger"]
        assert event["payload"]["summary"].startswith("lms-availability burning (page"), event
        assert event["payload"]["summary"].endswith("(and 2 alerts in all)"), event
        details = event["payload"]["custom_details"]  # ours, beside Alertmanager's own
        assert {k: details.get(k) for k in ("alertname", "slo", "runbook_url")} == {
            "alertname": "BudgetBurn", "slo": "lms-availability",
            "runbook_url": "https://runbooks.example.com/lms-availability"}, event

        def states() -> dict[tuple[str, str], dict]:
            alerts = requests.get(f"{url}/api/v2/alerts", timeout=5).json()
            return {(a["labels"]["slo"], a["labels"]["severity"]): a["status"] for a in alerts}

        held = wait_until(states, timeout=30, what="the lms ticket inhibited",
                          until=lambda s: s.get(("lms-availability", "ticket"), {}).get(
                              "state") == "suppressed")
        paging = {a["fingerprint"] for a in requests.get(f"{url}/api/v2/alerts", timeout=5).json()
                  if a["labels"]["severity"] == "page"}
        (by,) = held[("lms-availability", "ticket")]["inhibitedBy"]
        assert len(paging) == 2 and by in paging
        assert held[("lms-availability", "page")]["state"] == "active"
        assert held[("video-delivery", "ticket")] == {"state": "active", "inhibitedBy": [],
                                                       "silencedBy": []}, json.dumps(held)

        # The page resolves: the ticket is active again (the on-call was not told of it).
        resolved = {**page, "endsAt": datetime.now(timezone.utc).isoformat()}
        assert requests.post(f"{url}/api/v2/alerts", json=[resolved], timeout=5).ok
        resolved_slow = {**slow, "endsAt": datetime.now(timezone.utc).isoformat()}
        assert requests.post(f"{url}/api/v2/alerts", json=[resolved_slow], timeout=5).ok
        freed = wait_until(states, timeout=30, what="the lms ticket released",
                           until=lambda s: s.get(("lms-availability", "ticket"), {}).get(
                               "state") == "active")
        assert freed[("lms-availability", "ticket")]["inhibitedBy"] == []
        assert "Notify for alerts failed" not in log.read_text()
    finally:
        for process in (server, pager):
            process.terminate()
            process.wait(timeout=10)
