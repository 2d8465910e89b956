"""The live console in a real browser against a real sandbox game day: Debian's Chromium
(installed by scripts/install-servers.sh --with-browser), driven by Playwright for Python
through executable_path (no `playwright install`, no download). Three people open the
URLs the run printed: an observer takes a note while the database fails over, the
on-call acknowledges the real page from the console, the game master holds the next
fault, releases it and aborts the game day during it. The page, the API and the run's
record must all tell the same story; tokens that are wrong or missing, and roles that may
not, are refused."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import REPO, compressed_gameday, held_origin_loss
from tests.sandbox.helpers import eventually

CHROMIUM = "/usr/bin/chromium"
# As the report test starts it: without the background flags Chromium calls Google's
# hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
NOTE = "<script>window.pwned = 1</script> LMS answers 5xx while the primary fails over"
PEOPLE = {"observer": "Olu Observer", "on_call": "Cam OnCall", "game_master": "Gia Master"}
HOLD_S = 6  # how long the game master holds: the time itself is what is measured


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which("chromium"), "Debian's chromium is needed (make browser)"
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _gameday(tmp_path: Path, sandbox) -> Path:
    """The database failover (it pages), then the held origin loss the game master holds
    back and aborts in; 12 s of warm-up for the steady state's windows."""
    path = compressed_gameday(tmp_path, sandbox, [("rds-failover", 0),
                                                  (held_origin_loss(tmp_path), 55)])
    spec = yaml.safe_load(path.read_text())
    spec["max_duration_s"] = 240
    path.write_text(yaml.safe_dump(spec))
    return path


def _urls(stderr: Path, runner: subprocess.Popen) -> dict[str, str]:
    def printed() -> dict[str, str] | None:
        assert runner.poll() is None, stderr.read_text()[-3000:]
        found = dict(re.findall(r"^\[[\d:]+\]\s+(observer|on call|game master): (http://\S+)$",
                                stderr.read_text(), re.MULTILINE))
        return {k.replace(" ", "_"): v for k, v in found.items()} if len(found) == 3 else None

    return eventually(printed, timeout=90, interval=0.2)


def _api(urls: dict[str, str], role: str = "game_master") -> dict:
    base, token = urls[role].split("/#")[0], urls[role].split("token=")[1]
    return requests.get(f"{base}/api/state", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).json()


def _step(state: dict, index: int) -> dict:
    return state["steps"][index]


def _check_refusals(urls: dict[str, str]) -> None:
    """Wrong or missing tokens: 401 everywhere; roles that may not: 403."""
    base = urls["observer"].split("/#")[0]
    tokens = {role: url.split("token=")[1] for role, url in urls.items()}
    actions = ("note", "ack", "hold", "release", "abort")
    for headers in ({}, {"Authorization": "Bearer " + "x" * 43},
                    {"Authorization": f"Bearer {tokens['observer']}x"}):
        assert requests.get(f"{base}/api/state", headers=headers, timeout=5).status_code == 401
        with requests.get(f"{base}/api/events", headers=headers, stream=True,
                          timeout=5) as stream:
            assert stream.status_code == 401
        for action in actions:
            answer = requests.post(f"{base}/api/{action}", headers=headers, timeout=5,
                                   json={"name": "mallory", "confirm": True, "text": "x"})
            assert answer.status_code == 401, action
    for role, forbidden in (("observer", ("ack", "hold", "release", "abort")),
                            ("on_call", ("hold", "release", "abort"))):
        for action in forbidden:
            answer = requests.post(f"{base}/api/{action}", timeout=5,
                                   headers={"Authorization": f"Bearer {tokens[role]}"},
                                   json={"name": "mallory", "confirm": True})
            assert answer.status_code == 403, (role, action)


def _page(browser, url: str, name: str):
    page = browser.new_context().new_page()
    page.goto(url)
    page.fill("#name-input", name)
    page.click("#sign-in button")
    page.wait_for_selector("#console:not([hidden])")
    return page


def _shown(value: float | None, kind: str) -> str:
    """An SLO's value as the page prints it."""
    if value is None:
        return "n/a"
    return f"{value:.0f} ms" if kind == "latency" else f"{value * 100:.2f}%"


def _page_agrees_with_the_api(page, urls: dict[str, str]) -> bool:
    state = _api(urls)
    shown = page.eval_on_selector_all(
        "#slos tbody tr", "rows => rows.map(r => [r.dataset.key, r.cells[1].textContent])")
    wanted = [[slo["name"], _shown(slo["value"], slo["type"])] for slo in state["slos"]]
    live = [s["name"] for s in state["steps"] if s["state"] == "live"]
    return shown == wanted and "n/a" not in str(wanted) and \
        page.text_content("#live-fault") == (", ".join(live) or "none")


def test_the_team_watches_notes_acks_holds_and_aborts_from_the_browser(
        browser, sandbox, tmp_path) -> None:
    run_dir, stderr = tmp_path / "run", tmp_path / "runner.err"
    with stderr.open("w") as err:
        runner = subprocess.Popen(
            [sys.executable, "-m", "chaoslib_edx", "run", str(_gameday(tmp_path, sandbox)),
             "--out", str(run_dir), "--console"], cwd=REPO, stdout=subprocess.PIPE,
            stderr=err, text=True, env={**os.environ, "EDX_LEDGER": str(tmp_path / "ledger")})
    try:
        urls = _urls(stderr, runner)
        assert all(url.startswith(f"http://127.0.0.1:{sandbox.layout.console_port}/#role=")
                   for url in urls.values())
        _check_refusals(urls)
        pages = {role: _page(browser, urls[role], name) for role, name in PEOPLE.items()}

        # The database fails over: the page shows the live fault and the SLOs as the API.
        eventually(lambda: _step(_api(urls), 0)["state"] == "live", timeout=90, interval=0.3)
        eventually(lambda: _page_agrees_with_the_api(pages["observer"], urls), timeout=15,
                   interval=0.3)

        # The observer's note, shown to everyone as text (its markup never runs).
        pages["observer"].fill("#note-text", NOTE)
        pages["observer"].click("#note-form button")
        for page in pages.values():
            page.wait_for_function(
                "text => [...document.querySelectorAll('#notes .text')]"
                ".some(n => n.textContent === text)", arg=NOTE, timeout=10000)
            assert page.evaluate("window.pwned") is None
            assert page.eval_on_selector_all("#notes script", "s => s.length") == 0
        pages.pop("observer").context.close()  # a closed browser: the run goes on

        # The on-call acknowledges the real page from the console.
        eventually(lambda: [p for p in _api(urls)["monitoring"]["pages"] if not p["acked"]],
                   timeout=120, interval=1)
        pages["on_call"].click("#ack")
        pages["on_call"].wait_for_function(
            "() => /pages acknowledged/.test(document.querySelector('#action-result')"
            ".textContent)", timeout=15000)

        # The game master holds the origin loss back HOLD_S seconds, well before it is due.
        eventually(lambda: _step(_api(urls), 0)["state"] == "done", timeout=120, interval=0.5)
        assert _step(_api(urls), 1)["due"] - time.time() > 10, _api(urls)["steps"]
        gm = pages["game_master"]
        gm.click("#hold")
        gm.click("#confirm-yes")
        eventually(lambda: _api(urls)["hold"]["held"], timeout=10, interval=0.2)
        time.sleep(HOLD_S)
        gm.click("#release")
        eventually(lambda: _step(_api(urls), 1)["state"] == "live", timeout=120, interval=0.3)
        eventually(lambda: _page_agrees_with_the_api(gm, urls), timeout=15, interval=0.3)
        gm.screenshot(path=str(tmp_path / "console.png"), full_page=True)

        # And aborts the game day in it: SIGTERM's path, every rollback done, exit 3.
        gm.click("#abort")
        gm.click("#confirm-yes")
        out, _ = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    err_text = stderr.read_text()
    assert runner.returncode == 3, out + err_text[-3000:]
    for token in (url.split("token=")[1] for url in urls.values()):  # printed, kept nowhere
        for kept in run_dir.rglob("*"):
            assert not kept.is_file() or token not in kept.read_text(errors="replace"), kept
    with pytest.raises(ConnectionRefusedError):  # the console stopped with the run
        socket.create_connection(("127.0.0.1", sandbox.layout.console_port), timeout=2)

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "aborted" and summary["pending_rollbacks"] == []
    assert summary["abort_reason"] == "aborted from the console by Gia Master (game master)"
    assert sandbox.status()["checks"]["cdn"]["origin"] == 200  # the origin loss rolled back
    events = [json.loads(line) for line in (run_dir / "timeline.jsonl").read_text().splitlines()]
    (asked,) = [e for e in events if e["event"] == "abort_request"]
    assert (asked["by"], asked["role"]) == ("Gia Master", "game_master")
    held = [e["event"] for e in events
            if e.get("experiment") == "held-origin-loss" or e["event"] == "abort"]
    assert held.index("fault_start") < held.index("abort") < held.index("fault_end"), held

    # The note: in summary.json with the fault that was live, in the postmortem and report.
    (note,) = summary["notes"]
    assert (note["text"], note["by"], note["role"], note["during"]) == \
        (NOTE, "Olu Observer", "observer", "rds-failover")
    postmortem = (run_dir / "postmortem.md").read_text()
    observations = postmortem.split("## Observations")[1].split("## Impact")[0]
    assert "note by Olu Observer (observer) during rds-failover: &lt;script&gt;window.pwned " \
           "= 1&lt;/script&gt; LMS answers 5xx" in observations
    assert "&lt;script&gt;window.pwned" in (run_dir / "index.html").read_text()

    # The acknowledgement: a real one in the detection table, by the on-call's name.
    failover = next(r for r in summary["detection"] if r["experiment"] == "rds-failover")
    assert failover["status"] == "detected" and failover["ack_s"] is not None, failover
    assert not failover["ack_simulated"] and failover["acked_by"] == "Cam OnCall", failover
    (ack,) = [e for e in events if e["event"] == "ack"]
    assert (ack["by"], ack["role"]) == ("Cam OnCall", "on_call") and ack["pages"]

    # The hold: the origin loss went live its held time later than it was due.
    (hold,) = [e for e in events if e["event"] == "hold"]
    (release,) = [e for e in events if e["event"] == "release"]
    assert hold["by"] == release["by"] == "Gia Master"
    assert HOLD_S <= release["held_s"] <= HOLD_S + 3, release
    begun = next(e["t"] for e in events if e["event"] == "timeline_start")
    started = next(e["t"] for e in events if e["event"] == "experiment_start"
                   and e["experiment"] == "held-origin-loss")
    late = started - (begun + 55)
    # Within the polling's tenth of a second, and a second for a loaded machine.
    assert release["held_s"] - 0.2 <= late <= release["held_s"] + 1.0, (late, release)
    assert summary["holds"][0]["held_s"] == release["held_s"]
