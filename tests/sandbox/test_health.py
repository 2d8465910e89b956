"""`sandbox status` and /heartbeat tell the truth about what is down."""

import requests

from chaoslib_edx.sandbox.supervisor import Supervisor
from tests.sandbox.helpers import eventually


def test_status_is_healthy_and_exit_0(sandbox) -> None:
    result = sandbox.cli("sandbox", "status")
    assert result.returncode == 0, result.stdout
    assert "sandbox: healthy" in result.stdout
    for component in ("db-a", "db-b", "redis", "nginx", "origin", "lms-1", "lms-3"):
        assert component in result.stdout


def test_heartbeat_names_the_cache_when_redis_is_down(sandbox) -> None:
    layout = sandbox.layout
    sup = Supervisor(layout)
    sup.stop("redis")
    try:
        response = requests.get(f"{layout.lb_url}/heartbeat", timeout=5)
        assert response.status_code == 503
        body = response.json()
        assert body["db"] == "ok" and body["cache"].startswith("down")
        assert body["status"] == "down: cache"
        result = sandbox.cli("sandbox", "status", "--json")
        assert result.returncode == 1
        status = sandbox.status()
        assert status["programs"]["redis"]["state"] == "STOPPED"
        assert status["checks"]["cache"]["ok"] is False
        assert status["checks"]["lb"]["heartbeat"] == 503
    finally:
        sup.start("redis")
    eventually(lambda: requests.get(f"{layout.lb_url}/heartbeat", timeout=5).status_code == 200)
    assert sandbox.status()["state"] == "healthy"


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
