"""MariaDB primary + replica for the sandbox: bootstrap, schema, seed and the endpoint."""

import hashlib
import json
import subprocess

import pymysql

from chaoslib_edx.courses import ORG, course_key, structure
from chaoslib_edx.sandbox import credentials, endpoints
from chaoslib_edx.sandbox.layout import DB_NODES, Layout
from chaoslib_edx.waiting import wait_until

SCHEMA = """
CREATE DATABASE IF NOT EXISTS edxapp;
USE edxapp;
CREATE TABLE IF NOT EXISTS courses (
    id VARCHAR(128) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    org VARCHAR(64) NOT NULL,
    start_date DATE NOT NULL,
    structure JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS learners (
    id INT PRIMARY KEY,
    username VARCHAR(64) NOT NULL UNIQUE,
    email VARCHAR(128) NOT NULL UNIQUE,
    salt CHAR(16) NOT NULL,
    password_hash CHAR(64) NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollments (
    learner_id INT NOT NULL,
    course_id VARCHAR(128) NOT NULL,
    mode VARCHAR(16) NOT NULL DEFAULT 'audit',
    is_active BOOL NOT NULL DEFAULT TRUE,
    created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (learner_id, course_id)
);
CREATE TABLE IF NOT EXISTS write_probe (
    id INT PRIMARY KEY,
    written DATETIME(3) NOT NULL
);
CREATE TABLE IF NOT EXISTS write_ledger (
    id INT PRIMARY KEY,
    token CHAR(32) NOT NULL,
    written DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
CREATE TABLE IF NOT EXISTS courseware_studentmodule (
    student_id INT NOT NULL,
    course_id VARCHAR(128) NOT NULL,
    module_state_key VARCHAR(255) NOT NULL,
    module_type VARCHAR(32) NOT NULL,
    state JSON NOT NULL,
    grade DOUBLE,
    max_grade DOUBLE,
    created DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    modified DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (student_id, module_state_key)
);
CREATE TABLE IF NOT EXISTS completion_blockcompletion (
    user_id INT NOT NULL,
    context_key VARCHAR(128) NOT NULL,
    block_key VARCHAR(255) NOT NULL,
    block_type VARCHAR(32) NOT NULL,
    completion DOUBLE NOT NULL,
    modified DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_id, block_key)
);
"""

COURSE_NAMES = ["Introduction to Computer Science", "Linear Algebra", "Data Science Foundations",
                "Modern Poetry", "Supply Chain Analytics", "Climate Science",
                "Machine Learning", "Financial Accounting", "Human Anatomy", "Astronomy"]


def password_hash(salt: str, password: str) -> str:
    """The sandbox LMS's password hash: sha256 over salt and password (fast by design)."""
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def learner_email(username: str) -> str:
    """The seeded learners' addresses (the v1 login API signs in by email)."""
    return f"{username}@example.org"


ANSWER_S = 3.0  # a node that has not answered a statement by then is not answering


def admin_connect(layout: Layout, node: str, timeout: float = ANSWER_S,
                  **kwargs) -> pymysql.Connection:
    """Connect as root over a node's unix socket (socket auth: only local root can). Every
    read and write is bounded by TIMEOUT: a frozen server accepts the connection (the
    kernel does) and then never answers, which with pymysql's defaults hangs for ever."""
    return pymysql.connect(unix_socket=str(layout.db_socket(node)), user="root",
                           autocommit=True, connect_timeout=min(timeout, 2.0),
                           read_timeout=timeout, write_timeout=timeout, **kwargs)


def not_answering(exc: pymysql.err.MySQLError) -> str:
    """A node's error in words: 'not answering (timeout 3 s)' when it timed out."""
    if "timed out" in str(exc):
        return f"not answering (timeout {ANSWER_S:g} s)"
    return str(exc)


def install_datadirs(layout: Layout) -> None:
    """Create both nodes' data directories with mariadb-install-db (cold start only)."""
    for node in DB_NODES:
        datadir = layout.db_datadir(node)
        layout.db_tmpdir(node).mkdir(parents=True, exist_ok=True)
        if (datadir / "mysql").is_dir():
            continue
        datadir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mariadb-install-db", f"--defaults-file={layout.conf / f'{node}.cnf'}",
             "--auth-root-authentication-method=socket", "--skip-test-db"],
            check=True, capture_output=True)


def wait_ready(layout: Layout, node: str, timeout: float = 60) -> None:
    wait_until(lambda: admin_connect(layout, node).close() or True, timeout=timeout,
               what=f"MariaDB node {node} accepting connections",
               ignore=(pymysql.err.OperationalError,), hint=f"see {layout.logs}/{node}.err")


def bootstrap(layout: Layout, secrets: dict[str, str]) -> None:
    """Users, replication, schema and seed data; run once after the datadirs are new."""
    primary, replica = DB_NODES
    for node in DB_NODES:
        wait_ready(layout, node)
        # The users on each node, out of the binary log: `CREATE USER ... IDENTIFIED BY`
        # would write the generated passwords there in plain text.
        with admin_connect(layout, node) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            for user, password, grant in (
                ("repl", secrets["DB_REPL_PASSWORD"],
                 "REPLICATION SLAVE, REPLICATION CLIENT ON *.*"),
                ("edxapp", secrets["DB_PASSWORD"], "SELECT, INSERT, UPDATE, DELETE ON edxapp.*"),
                ("edx_admin", secrets["DB_ADMIN_PASSWORD"], "ALL PRIVILEGES ON *.*"),
            ):
                cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY %s",
                            (password,))
                cur.execute(f"GRANT {grant} TO '{user}'@'127.0.0.1'")
    with admin_connect(layout, replica) as conn, conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute("RESET SLAVE ALL")
        cur.execute("SET GLOBAL gtid_slave_pos = ''")
        cur.execute(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%s, MASTER_USER='repl', "
            "MASTER_PASSWORD=%s, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
            (layout.db_port(primary), secrets["DB_REPL_PASSWORD"]))
        cur.execute("START SLAVE")
    with admin_connect(layout, primary) as conn, conn.cursor() as cur:
        for statement in filter(None, (s.strip() for s in SCHEMA.split(";"))):
            cur.execute(statement)
        _seed(cur, layout)


def ensure_schema(layout: Layout) -> None:
    """The schema's tables on the primary (and by replication its replica): a sandbox made
    before a table was added gets it at its next `up`."""
    with admin_connect(layout, endpoints.primary(layout, "db")) as conn, conn.cursor() as cur:
        for statement in filter(None, (s.strip() for s in SCHEMA.split(";"))):
            cur.execute(statement)


def purge_binlogs(layout: Layout, timeout: float = 30) -> None:
    """Drop every binary log but the current one on both nodes, once the replica holds all
    the primary wrote: what sandboxes made before the users left the binlog had the
    passwords there. Replication goes on from the current logs."""
    primary = endpoints.primary(layout, "db")
    with admin_connect(layout, primary) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@gtid_binlog_pos")
        (position,), = cur.fetchall()
    for node in DB_NODES:
        if node != primary and position:
            with admin_connect(layout, node, timeout + ANSWER_S) as conn, \
                    conn.cursor() as cur:
                cur.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (position, timeout))
        with admin_connect(layout, node) as conn, conn.cursor() as cur:
            cur.execute("FLUSH BINARY LOGS")
            cur.execute("SHOW MASTER STATUS")
            current = cur.fetchone()[0]
            cur.execute("PURGE BINARY LOGS TO %s", (current,))


def _seed(cur: pymysql.cursors.Cursor, layout: Layout) -> None:
    seed = layout.settings.seed
    courses = []
    for i in range(1, seed.courses + 1):
        key = course_key(i)
        courses.append((key, COURSE_NAMES[(i - 1) % len(COURSE_NAMES)], ORG,
                        f"2026-0{1 + i % 9}-01", json.dumps(structure(key))))
    cur.executemany("INSERT IGNORE INTO courses VALUES (%s, %s, %s, %s, %s)", courses)
    learners = []
    for i in range(1, seed.learners + 1):
        salt = hashlib.md5(str(i).encode()).hexdigest()[:16]
        learners.append((i, f"learner{i}", learner_email(f"learner{i}"), salt,
                         password_hash(salt, seed.learner_password)))
    cur.executemany("INSERT IGNORE INTO learners VALUES (%s, %s, %s, %s, %s)", learners)


def app_connect(layout: Layout, timeout: float = 3) -> pymysql.connections.Connection:
    """A connection through the DB endpoint as the application user (autocommit), as an
    LMS replica makes one."""
    password = credentials.read(layout.secrets_file)["DB_PASSWORD"]
    return pymysql.connect(host="127.0.0.1", port=layout.port("db_endpoint"), user="edxapp",
                           password=password, database="edxapp", connect_timeout=2,
                           read_timeout=timeout, write_timeout=timeout, autocommit=True)


def replication_status(layout: Layout, node: str) -> dict:
    """SHOW SLAVE STATUS of one node, reduced to what an SRE looks at (empty if none)."""
    with admin_connect(layout, node, cursorclass=pymysql.cursors.DictCursor) as conn:
        with conn.cursor() as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
            cur.execute("SELECT @@read_only AS ro")
            read_only = bool(cur.fetchone()["ro"])
    if not row:
        return {"read_only": read_only, "replicating": False}
    return {"read_only": read_only,
            "replicating": row["Slave_IO_Running"] == "Yes" and row["Slave_SQL_Running"] == "Yes",
            "io": row["Slave_IO_Running"], "sql": row["Slave_SQL_Running"],
            "lag_seconds": row["Seconds_Behind_Master"], "last_error": row["Last_Error"]}

