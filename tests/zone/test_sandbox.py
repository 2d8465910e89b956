"""A whole zone dark on the real sandbox: every program of zone a frozen at once (SIGSTOP),
the database and the cache failed over to zone b through their own drivers, the LB's
passive checks routing around the dark replicas; the failback loses no committed write,
and `recover` after a SIGKILL mid-outage brings the zone back as the rollback does."""

import json
import os
import signal
import subprocess
import sys

import psutil
import pytest
import yaml

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.sandbox import database
from chaoslib_edx.sandbox.clients import redis_client
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import resolve
from chaoslib_edx.zone.probes import write_key
from tests.conftest import (
    REPO,
    assert_exit_agrees,
    compressed_gameday,
    run_cli,
    write_yaml,
)

DARK = {"lms-1", "lms-3", "db-a", "redis"}  # zone a of the default layout


def _frozen(sandbox) -> set[str]:
    """The sandbox's programs whose processes are stopped (SIGSTOP)."""
    return {info["name"] for info in Supervisor(sandbox.layout).processes()
            if info["pid"] and psutil.Process(info["pid"]).status() == psutil.STATUS_STOPPED}


def _home(sandbox) -> None:
    """Both zones up and the primaries home: what every rollback must leave."""
    status = sandbox.status()
    assert status["state"] == "healthy", (status["programs"], status["checks"])
    assert status["checks"]["db"]["primary"] == "db-a"
    assert status["checks"]["cache"]["primary"] == "redis"
    assert status["checks"]["cache"]["replicas"] == {"redis-b": "up"}
    assert _frozen(sandbox) == set()


def _compressed_experiment(tmp_path) -> str:
    """The shipped zone outage dark for 12 s instead of 30 (the fault is the same; the
    last hold stays, for the steady state's window to start after the failback)."""
    experiment = yaml.safe_load((REPO / "experiments/zone-outage.yaml").read_text())
    for name in ("darken-zone-a", "lms-availability-while-dark"):
        (activity,) = [a for a in experiment["method"] if a["name"] == name]
        activity["pauses"]["after"] = 6
    return str(write_yaml(tmp_path / "zone-outage.yaml", experiment))


def test_a_zone_outage_game_day_serves_from_the_other_zone_and_loses_no_write(
        sandbox, tmp_path) -> None:
    path = compressed_gameday(tmp_path, sandbox, [(_compressed_experiment(tmp_path), 0)],
                              slos=("lms-availability", "session-continuity"))
    run_dir = tmp_path / "run"
    result = run_cli("run", str(path), "--out", str(run_dir),
                     env={"EDX_LEDGER": str(tmp_path / "ledger.jsonl")}, timeout=300)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert_exit_agrees(result.returncode, summary, result.stderr)
    (experiment,) = summary["experiments"]
    journal = json.loads((run_dir / "journals" / "zone-outage.json").read_text())
    outputs = {r["activity"]["name"]: r.get("output") for r in journal["run"]}
    # Zone a went dark at once and the other zone's nodes took over.
    dark = outputs["darken-zone-a"]
    assert set(dark["dark"]) == DARK and dark["status"] == "dark"
    assert dark["findings"]["capacity_left"] == "1 of 3 LMS replicas"
    assert 0 < dark["findings"]["database_failover_s"] < 30
    assert 0 < dark["findings"]["cache_failover_s"] < 30
    # Writes before, while dark and after the failback were acknowledged, and all are
    # there after it (the steady state after checks them: the hypothesis held).
    assert [outputs[f"write-{when}"] for when in ("before", "during", "after")] == \
        [True, True, True]
    after = {p["activity"]["name"]: p["output"] for p in
             journal["steady_states"]["after"]["probes"]}
    assert after["committed-writes-kept"] is True and after["zone-up"] is True
    assert experiment["verdict"] == "held", experiment
    # The LMS kept answering from zone b: the load got answers while the zone was dark.
    while_dark = outputs["lms-availability-while-dark"]
    assert while_dark["total"] > 0 and while_dark["good"] > 0, while_dark
    # What the LB's log showed of the dark zone, in the report too.
    back = outputs["zone-a-back"]
    assert back["database_primary"] == "db-a" and back["cache_primary"] == "redis"
    lb = back["findings"]
    assert lb["lb_requests"] > lb["lb_sent_to_dark_zone"] > 0, lb
    assert lb["lb_longest_wait_s"] >= 1 and lb["lb_last_sent_to_dark_zone_s"] >= 0, lb
    assert experiment["findings"]["lb_sent_to_dark_zone"] == lb["lb_sent_to_dark_zone"]
    assert "zone-outage showed: database failover" in (run_dir / "summary.md").read_text()
    assert "capacity left 1 of 3 LMS replicas" in (run_dir / "index.html").read_text()
    _home(sandbox)


def test_a_capacity_plan_holds_a_zone_dark_as_a_degraded_sweep(sandbox, tmp_path) -> None:
    """The knee with one zone: the plan names the zone fault as any other held one (its
    registry hold), and the dry run shows the hold, its rollback and the zone's health."""
    plan = yaml.safe_load((REPO / "gamedays/capacity-enrollment-peak.yaml").read_text())
    plan.update(environment=str(sandbox.env_file), slo_catalog=str(REPO / "gamedays/slos.yaml"),
                degraded=[{"name": "one-zone", "fault": "zone", "target": "a",
                           "arguments": {"duration_seconds": 120}}])
    plan["load"]["profile"] = str(REPO / "loadprofiles/open_launch.py")
    result = run_cli("capacity", str(write_yaml(tmp_path / "plan.yaml", plan)), "--dry-run",
                     env={"EDX_LEDGER": str(tmp_path / "ledger.jsonl")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sweep one-zone: hold chaoslib_edx.zone.actions.zone_outage(duration_seconds=120, " \
           "zone=a) for the whole sweep; rollback restore_zone" in result.stdout
    assert "zone 'a'" in result.stdout and _frozen(sandbox) == set()


OUTAGE = """
import json, sys
from pathlib import Path
from chaoslib_edx import lease
from chaoslib_edx.zone.actions import zone_outage
from chaoslib_edx.zone.probes import write_committed
config = json.loads(sys.argv[1])
lease.begin(config, "a script that crashed", run_dir=Path(sys.argv[2]))
assert write_committed("a", "crash-before", configuration=config)
zone_outage("a", 30, configuration=config)
assert write_committed("a", "crash-during", configuration=config)
print("dark", flush=True)
sys.stdin.read()
"""


def test_sigkill_mid_outage_then_recover_from_root_brings_the_zone_back(sandbox,
                                                                        tmp_path) -> None:
    """The runner dies with zone a dark: the zone stays dark (no one resumes it), its
    rollback is in the ledger, and `recover` from / resumes it and fails back; the
    sessions and the writes the dead runner committed are all there."""
    config = sandbox.configuration(tmp_path)
    runner = subprocess.Popen([sys.executable, "-c", OUTAGE, json.dumps(config),
                               str(tmp_path / "crashed")], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout.readline().strip() == "dark"
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    assert _frozen(sandbox) == DARK
    status = sandbox.status()
    assert status["checks"]["db"]["primary"] == "db-b"
    assert status["checks"]["cache"]["primary"] == "redis-b"
    (entry,) = Ledger(config["edx_ledger"]).pending()
    assert entry.rollback == "chaoslib_edx.zone.actions:restore_zone"
    cache = redis_client(sandbox.layout.port("cache_endpoint"))
    try:
        cache.set("zone:written-while-dark", "kept")
    finally:
        cache.close()

    result = subprocess.run([sys.executable, "-m", "chaoslib_edx", "recover", "--env",
                             str(sandbox.env_file), "--ledger", config["edx_ledger"]],
                            cwd="/", capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore_zone" in result.stdout
    assert Ledger(config["edx_ledger"]).pending() == []
    _home(sandbox)
    # The cache's failback resynced the home node from the promoted one: nothing written
    # while it was dark was lost.
    home = redis_client(sandbox.layout.node_port("redis"))
    try:
        assert home.get("zone:written-while-dark") == b"kept"
    finally:
        home.close()
    # And the dead runner's writes, before and while dark, read back after the failback.
    with database.app_connect(sandbox.layout) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM write_ledger WHERE id IN %s",
                    ((write_key("crash-before"), write_key("crash-during")),))
        assert cur.fetchone()[0] == 2


@pytest.fixture(autouse=True)
def _both_zones_home_after(sandbox, tmp_path):
    """Whatever a test did, the shared sandbox ends with both zones up and the primaries
    home (a failing test must not leave half of it frozen for the next)."""
    yield
    status = sandbox.status()
    if _frozen(sandbox) or status["state"] != "healthy":
        resolve("zone", "a", sandbox.configuration(tmp_path)).drive(
            "restore", None, run=None, since=None)
    _home(sandbox)
