"""Database failover on the real sandbox under light load, and its rollback."""

import threading
import time

from chaoslib_edx.courses import course_key
from chaoslib_edx.ledger import Ledger
from chaoslib_edx.rds.actions import failover_database, restore_database
from chaoslib_edx.rds.probes import database_primary, database_writable
from chaoslib_edx.sandbox import database
from tests.sandbox.helpers import eventually, login


def test_writes_fail_then_land_on_the_promoted_replica(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    base = sandbox.layout.lb_url
    session = login(base, "learner40")
    results: list[tuple[float, int]] = []
    stop = threading.Event()

    def enroll_forever() -> None:
        for attempt in range(3000):  # bounded
            if stop.is_set():
                return
            course = course_key(1 + attempt % 4)
            code = session.post(f"{base}/api/enrollment/v1/enrollment", timeout=5,
                                json={"course_details": {"course_id": course}}).status_code
            results.append((time.monotonic(), code))
            time.sleep(0.02)

    writer = threading.Thread(target=enroll_forever, daemon=True)
    writer.start()
    try:
        eventually(lambda: len(results) > 20)
        began = time.monotonic()
        outcome = failover_database("edxapp", downtime_seconds=2, configuration=config)
        assert (outcome["primary_before"], outcome["primary_after"]) == ("db-a", "db-b")
        assert Ledger(config["edx_ledger"]).pending()[0].rollback.endswith("restore_database")
        ended = time.monotonic()
        eventually(lambda: len([t for t, _ in results if t > ended + 1]) > 20)
    finally:
        stop.set()
        writer.join()
    during = [c for t, c in results if began <= t <= began + 2]
    after = [c for t, c in results if t > ended + 1]
    assert 503 in during, during                   # writes failed while the primary was gone
    assert after and set(after) == {200}, after    # and succeed on the promoted replica
    assert database_primary("edxapp", configuration=config) == "db-b"
    assert database.replication_status(sandbox.layout, "db-b")["read_only"] is False
    assert database.replication_status(sandbox.layout, "db-a")["replicating"] is True
    status = sandbox.status()
    assert status["checks"]["db"]["primary"] == "db-b" and status["state"] == "healthy"

    restored = restore_database("edxapp", configuration=config)
    assert restored["primary"] == "db-a"
    assert database_primary("edxapp", configuration=config) == "db-a"
    assert database_writable("edxapp", configuration=config) is True
    assert database.replication_status(sandbox.layout, "db-b")["replicating"] is True
    assert Ledger(config["edx_ledger"]).pending() == []
    assert sandbox.status()["state"] == "healthy"
    # A write made on db-b while it was primary survived the failback.
    with database.admin_connect(sandbox.layout, "db-a") as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM edxapp.enrollments WHERE learner_id = 40")
        assert cur.fetchone()[0] == 4


def test_restore_is_idempotent(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    assert restore_database("edxapp", configuration=config)["was_primary"] == "db-a"
    assert sandbox.status()["state"] == "healthy"


def test_a_home_node_that_took_a_write_of_its_own_is_rebuilt_on_failback(sandbox,
                                                                          tmp_path) -> None:
    """The old primary holds a commit the promoted node never received (lost with it, or
    taken while it came back writable): both nodes wrote the same GTID sequence number,
    replication refuses it (error 1236), and the failback must still converge, keeping
    the promoted node's writes and dropping the stray one, as RDS does."""
    config = sandbox.configuration(tmp_path)
    layout = sandbox.layout
    failover_database("edxapp", downtime_seconds=0.5, configuration=config)
    with database.admin_connect(layout, "db-a") as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute("SET GLOBAL read_only = OFF")
        cur.execute("REPLACE INTO edxapp.write_probe VALUES (7, '2001-01-01 00:00:00')")
    assert database_writable("edxapp", configuration=config)  # a write on db-b, same seq
    with database.admin_connect(layout, "db-b") as conn, conn.cursor() as cur:
        cur.execute("REPLACE INTO edxapp.write_probe VALUES (8, '2002-02-02 00:00:00')")

    restored = restore_database("edxapp", configuration=config)
    assert (restored["primary"], restored["was_primary"]) == ("db-a", "db-b")
    assert sandbox.status()["state"] == "healthy"
    with database.admin_connect(layout, "db-a") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM edxapp.write_probe WHERE id IN (7, 8)")
        assert cur.fetchall() == ((8,),)  # db-b's write kept, the stray one dropped
    assert database_writable("edxapp", configuration=config)
    eventually(lambda: database.replication_status(layout, "db-b")["replicating"])
    assert Ledger(config["edx_ledger"]).pending() == []
