"""MariaDB primary + replica: real replication, and the endpoint the LMS reaches."""

import pymysql

from chaoslib_edx.courses import course_key
from chaoslib_edx.sandbox import credentials, database
from tests.sandbox.helpers import eventually, login


def _replica_rows(layout, learner_id: int, course: str) -> tuple:
    with database.admin_connect(layout, "db-b") as conn, conn.cursor() as cur:
        cur.execute("SELECT learner_id, course_id, mode FROM edxapp.enrollments "
                    "WHERE learner_id = %s AND course_id = %s", (learner_id, course))
        return cur.fetchall()


def test_enrollment_written_through_lb_is_readable_on_the_replica(sandbox) -> None:
    layout = sandbox.layout
    session = login(layout.lb_url, "learner17")
    course = course_key(3)
    response = session.post(f"{layout.lb_url}/api/enrollment/v1/enrollment",
                            json={"course_details": {"course_id": course}, "mode": "verified"},
                            timeout=5)
    assert response.status_code == 200, response.text
    rows = eventually(lambda: _replica_rows(layout, 17, course), timeout=10)
    assert rows == ((17, course, "verified"),)


def test_replica_is_read_only_and_replicating(sandbox) -> None:
    status = database.replication_status(sandbox.layout, "db-b")
    assert status["read_only"] and status["replicating"]
    primary = database.replication_status(sandbox.layout, "db-a")
    assert not primary["read_only"] and not primary["replicating"]


def test_app_user_reaches_the_primary_through_the_endpoint(sandbox) -> None:
    layout = sandbox.layout
    password = credentials.read(layout.secrets_file)["DB_PASSWORD"]
    with pymysql.connect(host="127.0.0.1", port=layout.port("db_endpoint"), user="edxapp",
                         password=password, database="edxapp") as conn, conn.cursor() as cur:
        cur.execute("SELECT @@port, @@read_only")
        assert cur.fetchone() == (layout.db_port("db-a"), 0)


def test_no_generated_password_is_in_a_binary_log(sandbox) -> None:
    """The users are created out of the binary log on each node: their passwords never
    reach the binlogs (which replicas and backups copy), and replication still runs."""
    secrets = [v.encode() for v in credentials.read(sandbox.layout.secrets_file).values()]
    binlogs = [p for node in database.DB_NODES
               for p in sandbox.layout.db_datadir(node).glob(f"{node}-bin.*")]
    assert binlogs
    for path in binlogs:
        data = path.read_bytes()
        assert not [s for s in secrets if s in data], path
    assert database.replication_status(sandbox.layout, "db-b")["replicating"]
