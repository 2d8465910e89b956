"""`sandbox status` and /heartbeat tell the truth about what is down."""

import requests

from chaoslib_edx import learner
from chaoslib_edx.sandbox.clients import redis_client
from chaoslib_edx.sandbox.supervisor import Supervisor
from tests.sandbox.helpers import eventually


def test_status_is_healthy_and_exit_0(sandbox) -> None:
    result = sandbox.cli("sandbox", "status")
    assert result.returncode == 0, result.stdout
    assert "sandbox: healthy" in result.stdout
    for component in ("db-a", "db-b", "db-path", "redis", "nginx", "origin", "lms-1", "lms-3"):
        assert component in result.stdout
    assert "delay 0 +/- 0 ms" in result.stdout


def test_every_server_has_a_zone_and_the_cache_its_replica_in_the_other(sandbox) -> None:
    """Replicas round robin over the zones, the primaries in the first, their replicas in
    the second; a session the LMS writes through the cache endpoint reaches redis-b by
    Redis' own replication."""
    status = sandbox.status()
    zones = {name: p["zone"] for name, p in status["programs"].items()}
    assert {name: zones[name] for name in ("lms-1", "lms-2", "lms-3", "db-a", "db-b",
                                           "redis", "redis-b")} == {
        "lms-1": "a", "lms-2": "b", "lms-3": "a", "db-a": "a", "db-b": "b", "redis": "a",
        "redis-b": "b"}
    assert zones["nginx"] is None and zones["prometheus"] is None  # regional
    cache = status["checks"]["cache"]
    assert cache["primary"] == "redis" and cache["replicas"] == {"redis-b": "up"}
    assert "zone a" in sandbox.cli("sandbox", "status").stdout
    session = learner.login(sandbox.layout.lb_url, "learner2",
                            sandbox.layout.settings.seed.learner_password)
    replica = redis_client(sandbox.layout.node_port("redis-b"))
    try:
        key = f"session:{session.cookies['sessionid']}"
        eventually(lambda: replica.exists(key) == 1)
    finally:
        replica.close()


def test_the_lms_reaches_the_database_through_the_path(sandbox) -> None:
    """Heartbeats through the load balancer hold database connections open on the path
    (the endpoint behind it is nginx's; only the path can count them)."""
    for _ in range(6):
        assert requests.get(f"{sandbox.layout.lb_url}/heartbeat", timeout=5).status_code == 200
    path = sandbox.status()["checks"]["db"]["path"]
    assert path["latency_ms"] == 0 and path["connections"] >= 1


def test_extended_heartbeat_names_the_cache_when_redis_is_down(sandbox) -> None:
    layout = sandbox.layout
    sup = Supervisor(layout)
    sup.stop("redis")
    try:
        assert requests.get(f"{layout.lb_url}/heartbeat", timeout=5).status_code == 200
        response = requests.get(f"{layout.lb_url}/heartbeat?extended", timeout=5)
        assert response.status_code == 503
        body = response.json()
        assert body["sql"]["status"] is True and body["cache"]["status"] is False
        assert body["cache"]["message"]
        result = sandbox.cli("sandbox", "status", "--json")
        assert result.returncode == 1
        status = sandbox.status()
        assert status["programs"]["redis"]["state"] == "STOPPED"
        assert status["checks"]["cache"]["ok"] is False
        assert status["checks"]["lb"]["heartbeat"] == 503
    finally:
        sup.start("redis")
    eventually(lambda: requests.get(f"{layout.lb_url}/heartbeat", timeout=5).status_code == 200)
    # redis-b reconnects to its primary and resyncs within a second or two
    eventually(lambda: sandbox.status()["state"] == "healthy")


def test_status_reports_replication_stopped_on_replica(sandbox) -> None:
    layout = sandbox.layout
    from chaoslib_edx.sandbox import database

    with database.admin_connect(layout, "db-b") as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        try:
            status = sandbox.status()
            assert status["state"] == "degraded"
            assert status["checks"]["db"]["nodes"]["db-b"]["replicating"] is False
        finally:
            cur.execute("START SLAVE")
    eventually(lambda: sandbox.status()["state"] == "healthy")


def test_a_frozen_primary_is_named_within_seconds_and_the_dry_run_is_bounded(
        sandbox, tmp_path) -> None:
    """MariaDB SIGSTOPped accepts connections (the kernel does) and answers nothing:
    `sandbox status` names it within 10 s instead of hanging, and a game day's dry run
    refuses (not healthy) within 10 s too: every read it makes has a timeout, and it
    makes them side by side."""
    import os
    import signal
    import time

    from tests.conftest import compressed_gameday, program_pids, run_cli

    gameday = compressed_gameday(tmp_path, sandbox, [("rds-failover", 0)])
    primary = sandbox.status()["checks"]["db"]["primary"]
    pid = program_pids(sandbox.layout)[primary]
    os.kill(pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        result = sandbox.cli("sandbox", "status")
        took = time.monotonic() - began
        dry = run_cli("run", str(gameday), "--dry-run", "--env", str(sandbox.env_file),
                      timeout=120)
        dry_took = time.monotonic() - began - took
    finally:
        os.kill(pid, signal.SIGCONT)
    assert result.returncode == 1 and took < 10, (took, result.stdout)
    assert f"{primary}: not answering (timeout 3 s)" in result.stdout, result.stdout
    assert dry.returncode != 0 and "NOT HEALTHY" in dry.stdout, dry.stdout + dry.stderr
    assert dry_took < 10, dry_took
