"""A runner SIGKILLed in the middle of a fault leaves its rollback; `recover` runs it, as
it runs what a previous version of the ledger left."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pymysql

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.sandbox import credentials, database, endpoints
from chaoslib_edx.sandbox.supervisor import Supervisor
from tests.conftest import REPO, run_cli
from tests.sandbox.helpers import db_query_ms, eventually


def _failover_in_a_process(config: dict, downtime_seconds: float) -> subprocess.Popen:
    """The failover action in a process of its own, to be SIGKILLed like a crashed runner."""
    code = ("import json, sys; from chaoslib_edx.rds.actions import failover_database; "
            "failover_database('edxapp', downtime_seconds=float(sys.argv[2]), "
            "configuration=json.loads(sys.argv[1]))")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config),
                             str(downtime_seconds)], cwd=REPO)


def _probe_row(layout, node: str, row: int) -> tuple:
    """Row ROW of the write-probe table, as NODE holds it."""
    with database.admin_connect(layout, node) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, written FROM edxapp.write_probe WHERE id = %s", (row,))
        return cur.fetchall()


def test_sigkill_mid_failover_then_recover(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    ledger = Ledger(config["edx_ledger"])
    runner = _failover_in_a_process(config, downtime_seconds=60)
    sup = Supervisor(sandbox.layout)
    try:
        # The fault is live: its rollback is on disk and the primary is down.
        eventually(lambda: ledger.pending() and sup.process("db-a")["statename"] == "STOPPED",
                   timeout=30)
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    assert runner.returncode == -signal.SIGKILL
    assert sandbox.status()["state"] == "degraded"
    assert len(ledger.pending()) == 1

    result = run_cli("recover", "--env", str(sandbox.env_file), "--ledger", config["edx_ledger"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore_database" in result.stdout and "ok" in result.stdout
    assert ledger.pending() == []
    status = sandbox.status()
    assert status["state"] == "healthy", (status["programs"], status["checks"])
    assert status["checks"]["db"]["primary"] == "db-a"

    again = run_cli("recover", "--env", str(sandbox.env_file), "--ledger", config["edx_ledger"])
    assert again.returncode == 0 and "nothing pending" in again.stdout


def _mark_through_the_endpoint(layout) -> tuple:
    """Write row 2 of the probe table through the endpoint, as the application writes
    (row 1 is database_writable's, which recover's own health probe rewrites); the row
    as the endpoint's node holds it."""
    password = credentials.read(layout.secrets_file)["DB_PASSWORD"]
    try:
        with pymysql.connect(host="127.0.0.1", port=layout.port("db_endpoint"), user="edxapp",
                             password=password, database="edxapp", autocommit=True,
                             connect_timeout=2, read_timeout=3) as conn, conn.cursor() as cur:
            cur.execute("REPLACE INTO write_probe VALUES (2, NOW(3))")
            cur.execute("SELECT id, written FROM write_probe WHERE id = 2")
            return cur.fetchall()
    except pymysql.err.MySQLError:
        return ()


def test_sigkill_right_after_the_promotion_then_recover_keeps_the_new_writes(
        sandbox, tmp_path) -> None:
    """Killed between re-pointing the endpoint and making the old primary follow: the
    promoted node takes writes the old one never saw; the failback must fetch them."""
    config = sandbox.configuration(tmp_path)
    runner = _failover_in_a_process(config, downtime_seconds=1)
    marked: list[tuple] = []
    try:
        # A write that landed on the promoted node: the endpoint serves db-b.
        eventually(lambda: endpoints.primary(sandbox.layout, "db") == "db-b"
                   and (marked.append(_mark_through_the_endpoint(sandbox.layout)) or marked[-1])
                   and _probe_row(sandbox.layout, "db-b", row=2) == marked[-1],
                   timeout=30, interval=0.02)
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    # Killed in time: db-a was stopped or starting, not yet a replica of db-b.
    if Supervisor(sandbox.layout).process("db-a")["statename"] != "STOPPED":
        database.wait_ready(sandbox.layout, "db-a")
        assert not database.replication_status(sandbox.layout, "db-a").get("replicating")
    new_write = _probe_row(sandbox.layout, "db-b", row=2)

    result = run_cli("recover", "--env", str(sandbox.env_file), "--ledger", config["edx_ledger"])
    assert result.returncode == 0, result.stdout + result.stderr
    status = sandbox.status()
    assert status["state"] == "healthy", (status["programs"], status["checks"])
    assert status["checks"]["db"]["primary"] == "db-a"
    assert _probe_row(sandbox.layout, "db-a", row=2) == new_write


def test_a_ledger_the_previous_version_wrote_is_recovered(sandbox, tmp_path) -> None:
    """A fault recorded before ledger lines named their run: `recover` reads the line as
    the legacy run, says so, and undoes the fault (measured on the target)."""
    from chaoslib_edx.dblatency.actions import slow_database

    config = sandbox.configuration(tmp_path)
    slow_database("edxapp", latency_ms=120, configuration=config)
    path = Path(config["edx_ledger"])
    (line,) = [json.loads(raw) for raw in path.read_text().splitlines()]
    legacy = {k: line[k] for k in ("id", "fault", "rollback", "arguments", "recorded_at")}
    path.write_text(json.dumps(legacy) + "\n")  # as the previous version wrote it
    assert db_query_ms(sandbox.layout) >= 120

    result = run_cli("recover", "--env", str(sandbox.env_file), "--ledger", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore_database_speed" in result.stdout
    assert "(a ledger line from before runs were recorded (legacy))" in result.stdout
    assert Ledger(path).pending() == [] and db_query_ms(sandbox.layout) < 60
