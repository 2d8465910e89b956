"""The database fault on the sandbox: MariaDB primary loss, replica promotion, endpoint
re-pointed (what RDS Multi-AZ does with its DNS name), old primary back as the standby."""

import subprocess
import time

import pymysql
from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Secrets

from chaoslib_edx.rds.contract import FailoverResult, RestoreResult
from chaoslib_edx.sandbox import credentials, database, endpoints
from chaoslib_edx.sandbox.layout import DB_NODES, Layout
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import Target
from chaoslib_edx.waiting import WaitTimeout, wait_until


REPOINT_WAIT_S = 10  # nginx reloading its stream upstream


def _other(node: str) -> str:
    return DB_NODES[1] if node == DB_NODES[0] else DB_NODES[0]


def _sql(layout: Layout, node: str, *statements: str, args: tuple = ()) -> tuple:
    with database.admin_connect(layout, node) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement, args if "%s" in statement else ())
        return cur.fetchall()


def _repoint(layout: Layout, node: str) -> None:
    """Point the endpoint at NODE, and return once a new connection through it reaches
    NODE (nginx's reload is asynchronous: until then the old worker forwards)."""
    endpoints.repoint(layout, "db", node)

    def reaches() -> bool:
        with database.app_connect(layout) as conn, conn.cursor() as cur:
            cur.execute("SELECT @@port")
            return cur.fetchone()[0] == layout.db_port(node)

    wait_until(reaches, timeout=REPOINT_WAIT_S, what=f"the DB endpoint reaching {node}",
               interval=0.05, ignore=(pymysql.err.MySQLError,))


def _promote(layout: Layout, node: str, timeout: float = 30) -> None:
    """Apply what the replica already received, then make it a writable primary."""
    _sql(layout, node, "STOP SLAVE IO_THREAD")
    with database.admin_connect(layout, node, cursorclass=pymysql.cursors.DictCursor) as conn:
        with conn.cursor() as cur:
            def applied() -> bool:
                cur.execute("SHOW SLAVE STATUS")
                row = cur.fetchone()
                return not row or row["Slave_SQL_Running"] != "Yes" \
                    or row["Slave_SQL_Running_State"].startswith("Slave has read all")

            try:
                wait_until(applied, timeout=timeout, what=f"{node} applying its relay log",
                           interval=0.05)
            except WaitTimeout:
                pass  # promote all the same: a primary that lacks a few events beats none
    _sql(layout, node, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")


def _follow(layout: Layout, node: str, primary: str) -> None:
    """Make NODE a read-only replica of PRIMARY (GTID, from NODE's own current position)."""
    password = credentials.read(layout.secrets_file)["DB_REPL_PASSWORD"]
    _sql(layout, node, "SET GLOBAL read_only = ON", "STOP SLAVE", "RESET SLAVE ALL")
    _sql(layout, node, "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%s, "
         "MASTER_USER='repl', MASTER_PASSWORD=%s, MASTER_USE_GTID=current_pos, "
         "MASTER_CONNECT_RETRY=1", args=(layout.db_port(primary), password))
    _sql(layout, node, "START SLAVE")


def _sequences(gtid_pos: str) -> dict[str, int]:
    """'0-2-614,1-1-7' -> {'0': 614, '1': 7}. Within a domain MariaDB numbers event groups
    on from the highest it has seen, whichever server wrote them."""
    return {domain: int(seq) for domain, _, seq in
            (gtid.split("-") for gtid in gtid_pos.split(",") if gtid)}


def _caught_up(layout: Layout, node: str, gtid_pos: str, timeout: float = 30) -> bool:
    """Wait until NODE holds every event group up to GTID_POS. Not MASTER_GTID_WAIT: that
    compares the replication position only, and misses what NODE wrote as the primary."""
    wanted = _sequences(gtid_pos)

    def holds() -> bool:
        (current,), = _sql(layout, node, "SELECT @@gtid_current_pos")
        have = _sequences(current)
        return all(have.get(domain, -1) >= seq for domain, seq in wanted.items())

    try:
        return wait_until(holds, timeout=timeout, what=f"{node} at GTID {gtid_pos}",
                          interval=0.05)
    except WaitTimeout:
        return False


def _diverged(layout: Layout, node: str, primary: str) -> bool:
    """True when NODE wrote an event group PRIMARY never received (the last commit of a
    primary lost before it was sent, or a write taken while it came back writable):
    replication would refuse NODE (error 1236). Read from the binlog states, which keep
    the last sequence number of every server in every domain, purged logs included."""
    def last(state: str) -> dict[tuple[str, str], int]:
        return {(domain, server): int(seq) for domain, server, seq in
                (gtid.split("-") for gtid in state.split(",") if gtid)}

    (own, server_id), = _sql(layout, node, "SELECT @@gtid_binlog_state, @@server_id")
    (theirs,), = _sql(layout, primary, "SELECT @@gtid_binlog_state")
    received = last(theirs)
    return any(received.get(key, -1) < seq for key, seq in last(own).items()
               if key[1] == str(server_id))


def _rebuild(layout: Layout, node: str, primary: str, gtid_pos: str) -> None:
    """Replace NODE's data with a copy of PRIMARY's (frozen at GTID_POS) and follow it, as
    RDS replaces a lost primary with a standby made from the new one: what NODE alone
    held is dropped, as RDS drops it. The copy stays out of NODE's binary log."""
    dump = subprocess.run(["mariadb-dump", f"--socket={layout.db_socket(primary)}",
                           "--user=root", "--single-transaction", "--databases", "edxapp"],
                          check=True, capture_output=True)
    _sql(layout, node, "SET GLOBAL read_only = ON", "STOP SLAVE", "RESET SLAVE ALL",
         "RESET MASTER")
    subprocess.run(["mariadb", f"--socket={layout.db_socket(node)}", "--user=root",
                    "--init-command=SET SESSION sql_log_bin = 0"],
                   input=dump.stdout, check=True, capture_output=True)
    _sql(layout, node, "SET GLOBAL gtid_slave_pos = %s", args=(gtid_pos,))
    _follow(layout, node, primary)


def _drop_app_connections(layout: Layout, node: str) -> None:
    """End the application's sessions on a demoted node, as an RDS instance restart does:
    they would stay alive (their ping succeeds) and every write on them would fail."""
    with database.admin_connect(layout, node) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM information_schema.processlist WHERE user = 'edxapp'")
        for (session_id,) in cur.fetchall():
            try:
                cur.execute(f"KILL CONNECTION {int(session_id)}")
            except pymysql.err.MySQLError:
                pass  # it ended by itself meanwhile


def failover(target: Target, *, secrets: Secrets | None, downtime_seconds: float,
             primary_lost: bool = False) -> FailoverResult:
    """The primary instance is lost (stopped), the standby promoted behind the endpoint,
    the old primary back as the new one's standby. PRIMARY_LOST: its zone went dark and
    took it (frozen, not stopped): promote without touching it; it comes back with its
    zone, and restore fails back."""
    layout = Layout.of(target)
    sup = Supervisor(layout)
    old = endpoints.primary(layout, "db")
    new = _other(old)
    began = time.monotonic()
    if not primary_lost:
        sup.stop(old)                 # the primary instance is lost
    time.sleep(downtime_seconds)      # detection and promotion (60-120 s on RDS)
    _promote(layout, new)
    _repoint(layout, new)
    promoted_after = time.monotonic() - began
    if not primary_lost:
        sup.start(old)                # the old primary returns as the standby
        database.wait_ready(layout, old)
        _follow(layout, old, new)
    return {"primary_before": old, "primary_after": new,
            "write_outage_seconds": round(promoted_after, 3), "status": "promoted"}


def restore(target: Target, *, secrets: Secrets | None) -> RestoreResult:
    """Converge to db-a primary, db-b its replica, from any point of a failover."""
    layout = Layout.of(target)
    sup = Supervisor(layout)
    home, standby = DB_NODES
    for node in DB_NODES:
        sup.start(node)
        database.wait_ready(layout, node)
    current = endpoints.primary(layout, "db")
    if current != home:
        # Controlled switchover: freeze writes, let home catch up, swap roles. A failover
        # cut short after the promotion left home not following: it lacks the writes the
        # new primary took and must fetch them before it is promoted back. A home that
        # took a write the new primary never got (lost with it, or taken while it came
        # back writable) cannot follow at all: it is rebuilt from the new primary.
        if not database.replication_status(layout, home).get("replicating"):
            _follow(layout, home, current)
        _sql(layout, current, "SET GLOBAL read_only = ON")
        (pos,), = _sql(layout, current, "SELECT @@gtid_binlog_pos")
        if _diverged(layout, home, current):  # sequence numbers alone would look caught up
            _rebuild(layout, home, current, pos)
        if not _caught_up(layout, home, pos):
            _sql(layout, current, "SET GLOBAL read_only = OFF")
            raise ActivityFailed(f"{home} did not catch up with {current} (GTID {pos}) "
                                 f"within 30 s: {current} stays the writable primary; "
                                 f"`edx-gameday sandbox status` shows the replication error")
    home_status = database.replication_status(layout, home)
    if home_status.get("io") or home_status["read_only"]:
        _promote(layout, home)
    if current != home:
        _repoint(layout, home)
        _drop_app_connections(layout, current)
    if not database.replication_status(layout, standby).get("replicating"):
        _follow(layout, standby, home)
    return {"primary": home, "was_primary": current, "status": "available"}


def writable(target: Target, *, secrets: Secrets | None) -> bool:
    """A write through the endpoint, as the application user, succeeds."""
    try:
        with database.app_connect(Layout.of(target)) as conn, conn.cursor() as cur:
            cur.execute("REPLACE INTO write_probe VALUES (1, NOW(3))")
        return True
    except pymysql.err.MySQLError:
        return False


def primary(target: Target, *, secrets: Secrets | None) -> str:
    return endpoints.primary(Layout.of(target), "db")
