"""A zone outage on the sandbox: every program of the zone frozen at once (SIGSTOP: as a
power loss looks to its peers, their connections hang, nothing closes them), then the
platform's own failover through the other faults' drivers, found in the registry: the
database's and the cache's nodes in the other zone promoted behind their endpoints. The
load balancer marks the zone's LMS replicas down by its own passive health checks. The
restore resumes the zone (SIGCONT first) and fails back through the same drivers."""

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import psutil
import pymysql
from chaoslib.types import Secrets

from chaoslib_edx.faults import fault
from chaoslib_edx.sandbox import database
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import GuardrailRefused, Target, resolve
from chaoslib_edx.zone.contract import OutageResult, ZoneRestoreResult

READY_WAIT_S = 120  # the zone's LMS replicas answering again after the failback
# Before the other zone's nodes take over: the managed services noticing the loss, as the
# database failover fault's default, compressed as the sandbox compresses time.
NOTICE_S = 2.0
# One LB access-log line (nginx.conf.j2's log_format lb): when it ended, its status, how
# long it took and every upstream it tried.
_LB_LINE = re.compile(r'\[(?P<time>[^\]]+)\] "[^"]*" (?P<status>\d{3}) \d+ '
                      r'(?P<took>[\d.]+) "[^"]*" (?P<upstreams>.*) lb$')


def _programs(target: Target) -> list[str]:
    layout = Layout.of(target)
    if target.name not in layout.settings.zones:
        raise GuardrailRefused(f"the sandbox has no zone '{target.name}' (its zones: "
                               f"{', '.join(layout.settings.zones)})", file=target.env_file,
                               field="sandbox.zones")
    return layout.zones[target.name]


def _peer(target: Target, kind: str) -> Target:
    """The sandbox's one target of another fault KIND, through the registry."""
    return resolve(kind, fault(kind).placements["sandbox"].names[0], target.configuration)


def _pids(layout: Layout, programs: list[str]) -> dict[str, int]:
    return {info["name"]: info["pid"] for info in Supervisor(layout).processes()
            if info["name"] in programs and info["pid"]}


def check(target: Target, *, secrets: Secrets | None, duration_seconds: int) -> None:
    layout = Layout.of(target)
    serving = [name for name in layout.lms_ports if name not in _programs(target)]
    if not serving:
        raise GuardrailRefused(f"zone '{target.name}' holds every LMS replica: nothing would "
                               "serve", file=target.env_file, field="sandbox.lms_replicas")


def outage(target: Target, *, secrets: Secrets | None, duration_seconds: int,
           run: str) -> OutageResult:
    layout = Layout.of(target)
    programs = _programs(target)
    began = time.monotonic()
    for pid in _pids(layout, programs).values():  # at once: one list, then the signals
        os.kill(pid, signal.SIGSTOP)
    database_target, cache_target = _peer(target, "database"), _peer(target, "cache")

    def take_over(peer: Target, **arguments: object) -> float | None:
        """The peer's failover when its primary was in the zone: seconds until done."""
        if peer.drive("primary", secrets) not in programs:
            return None
        time.sleep(NOTICE_S)
        peer.drive("failover", secrets, **arguments)
        return round(time.monotonic() - began, 3)

    with ThreadPoolExecutor(2) as pool:  # each platform service fails over on its own
        db = pool.submit(take_over, database_target, downtime_seconds=0, primary_lost=True)
        cache = pool.submit(take_over, cache_target)
        findings = {"database_failover_s": db.result(), "cache_failover_s": cache.result()}
    serving = [name for name in layout.lms_ports if name not in programs]
    findings["capacity_left"] = f"{len(serving)} of {len(layout.lms_ports)} LMS replicas"
    return {"zone": target.name, "dark": programs, "experiment_id": None,
            "findings": {k: v for k, v in findings.items() if v is not None},
            "status": "dark"}


def dark(target: Target, *, secrets: Secrets | None) -> bool | None:
    """Every program of the zone is still frozen (one resumed or restarted: it ended)."""
    layout = Layout.of(target)
    programs = _programs(target)
    pids = _pids(layout, programs)
    if set(pids) != set(programs):
        return False
    try:
        return all(psutil.Process(pid).status() == psutil.STATUS_STOPPED
                   for pid in pids.values())
    except psutil.NoSuchProcess:
        return False


def restore(target: Target, *, secrets: Secrets | None, run: str | None,
            since: float | None) -> ZoneRestoreResult:
    """Resume the zone, then fail back: the database once its home node holds every
    write (by GTID; rebuilt when it diverged), the cache once its home node has resynced,
    and every LMS replica answering."""
    layout = Layout.of(target)
    programs = _programs(target)
    until = time.time()
    for pid in _pids(layout, programs).values():
        os.kill(pid, signal.SIGCONT)
    database_result = _peer(target, "database").drive("restore", secrets)
    _peer(target, "cache").drive("restore", secrets)
    _peer(target, "pods").drive("wait_ready", secrets, timeout_seconds=READY_WAIT_S)
    return {"zone": target.name, "resumed": programs,
            "database_primary": database_result["primary"],
            "cache_primary": _peer(target, "cache").drive("primary", secrets),
            "findings": lb_findings(layout, programs, since, until) if since else {},
            "status": "restored"}


def lb_findings(layout: Layout, programs: list[str], since: float, until: float) -> dict:
    """What the load balancer's access log shows of the dark zone between SINCE and
    UNTIL: requests it sent there (each waited for a timeout before its retry), how many
    failed, the longest wait, and the last time it still sent one (nginx's passive checks
    try a replica again every fail_timeout: it never stops for good)."""
    dark_ports = {str(port) for name, port in layout.lms_ports.items() if name in programs}
    requests = tried = failed = 0
    last_sent = longest = None
    log = layout.logs / "lb-access.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for line in lines:
        found = _LB_LINE.search(line)
        if found is None:
            continue
        ended = datetime.strptime(found["time"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        took = float(found["took"])
        if not since <= ended - took <= until:
            continue
        requests += 1
        failed += found["status"].startswith("5")
        ports = set(re.findall(r":(\d+)", found["upstreams"]))
        if ports & dark_ports:
            tried += 1
            last_sent = max(last_sent or 0.0, ended - took - since)
            longest = max(longest or 0.0, took)
    return {"lb_requests": requests, "lb_sent_to_dark_zone": tried, "lb_failed": failed,
            "lb_longest_wait_s": longest,
            "lb_last_sent_to_dark_zone_s": round(last_sent, 1) if last_sent is not None
            else None}


def healthy(target: Target, *, secrets: Secrets | None) -> bool:
    """Every program of the zone runs (not frozen) and its LMS replicas answer."""
    layout = Layout.of(target)
    programs = _programs(target)
    pids = _pids(layout, programs)
    try:
        running = set(pids) == set(programs) and all(
            psutil.Process(pid).status() != psutil.STATUS_STOPPED for pid in pids.values())
    except psutil.NoSuchProcess:
        return False
    return running and _peer(target, "pods").drive("ready", secrets)


def write(target: Target, *, secrets: Secrets | None, key: int, token: str) -> bool | None:
    try:
        with database.app_connect(Layout.of(target)) as conn, conn.cursor() as cur:
            cur.execute("REPLACE INTO write_ledger (id, token) VALUES (%s, %s)", (key, token))
        return True
    except pymysql.err.MySQLError:
        return False


def read(target: Target, *, secrets: Secrets | None,
         keys: list[int]) -> dict[int, str] | None:
    if not keys:
        return {}
    with database.app_connect(Layout.of(target)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, token FROM write_ledger WHERE id IN %s", (tuple(keys),))
        return {int(key): token for key, token in cur.fetchall()}
