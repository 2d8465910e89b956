"""What state the sandbox is in: per-component status, a health wait and a smoke run."""

import time

import pymysql
import redis
import requests

from chaoslib_edx import learner
from chaoslib_edx.courses import block_id, course_key, structure
from chaoslib_edx.sandbox import database, endpoints, monitoring, netpath
from chaoslib_edx.sandbox.assets import HEALTH_FILE
from chaoslib_edx.sandbox.clients import http_get, redis_client
from chaoslib_edx.sandbox.layout import CACHE_NODES, DB_NODES, Layout
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.waiting import wait_until


def wait_healthy(layout: Layout, timeout: float) -> dict:
    """Wait until every program runs and every check passes (heartbeat through the LB,
    edge and origin, writable primary with a replicating replica, Redis)."""
    return wait_until(lambda: _Report(status(layout)), timeout=timeout,
                      until=lambda report: report["state"] == "healthy",
                      what="a healthy sandbox", interval=0.25,
                      hint=f"`edx-gameday sandbox status` shows why, logs are in {layout.logs}")


class _Report(dict):
    """A status report that prints as what is failing (for the timeout message)."""

    def __str__(self) -> str:
        failing = [n for n, p in self["programs"].items() if p["state"] != "RUNNING"]
        failing += [n for n, c in self["checks"].items() if not c["ok"]]
        return f"failing: {', '.join(failing) or self['state']}"


def status(layout: Layout) -> dict:
    """Every component with its state; 'healthy' only when all of them are."""
    sup = Supervisor(layout)
    if not sup.is_running():
        return {"state": "down", "state_dir": str(layout.root), "supervisord": None,
                "programs": {}, "checks": {}}
    programs = {}
    for info in sup.processes():
        name = info["name"]
        programs[name] = {"state": info["statename"], "pid": info["pid"] or None,
                          "description": info["description"], "zone": layout.zone_of(name)}
    checks = {"lb": _lb(layout), "cdn": _cdn(layout), "db": _db(layout), "cache": _cache(layout)}
    if layout.monitored:
        checks["monitoring"] = monitoring.check(layout)
    healthy = (all(p["state"] == "RUNNING" for p in programs.values())
               and all(c["ok"] for c in checks.values()))
    return {"state": "healthy" if healthy else "degraded", "state_dir": str(layout.root),
            "supervisord": sup.pid(), "programs": programs, "checks": checks}


def _lb(layout: Layout) -> dict:
    code, body, _ = http_get(f"{layout.lb_url}/heartbeat?extended")  # all of the LMS's deps
    return {"ok": code == 200, "url": layout.lb_url, "heartbeat": code,
            "detail": body[:300].decode(errors="replace")}


def _cdn(layout: Layout) -> dict:
    origin = f"http://127.0.0.1:{layout.port('origin')}/{HEALTH_FILE}"
    origin_code = http_get(origin)[0]
    edge_code, _, headers = http_get(f"{layout.cdn_url}/{HEALTH_FILE}")
    return {"ok": origin_code == 200 and edge_code == 200, "url": layout.cdn_url,
            "edge": edge_code, "origin": origin_code,
            "edge_cache": headers.get("X-Cache-Status")}


def _db(layout: Layout) -> dict:
    nodes = {}
    for node in DB_NODES:
        try:
            nodes[node] = database.replication_status(layout, node)
        except pymysql.err.MySQLError as exc:
            nodes[node] = {"error": database.not_answering(exc)}
    primary = endpoints.primary(layout, "db")
    replicas = [n for n in DB_NODES if n != primary]
    ok = (not nodes[primary].get("error") and not nodes[primary].get("read_only")
          and all(nodes[r].get("replicating") for r in replicas))
    return {"ok": ok, "endpoint": layout.port("db_endpoint"), "primary": primary,
            "nodes": nodes, "path": _db_path(layout)}


def _db_path(layout: Layout) -> dict:
    """The LMS's way to the endpoint, and the delay a fault has set on it."""
    try:
        return {"port": layout.port("db_path"), **netpath.control(layout.db_path_socket, {})}
    except (OSError, ValueError) as exc:
        return {"port": layout.port("db_path"), "error": str(exc)}


def _cache(layout: Layout) -> dict:
    """The primary the cache endpoint names (memory, eviction) and its replica's link."""
    primary = endpoints.primary(layout, "cache")
    client = redis_client(layout.node_port(primary))
    try:
        memory, stats = client.info("memory"), client.info("stats")
        config = client.config_get("maxmemory*")
        keys = client.dbsize()
        role = client.info("replication")["role"]
    except redis.RedisError as exc:
        return {"ok": False, "primary": primary, "error": str(exc)}
    finally:
        client.close()
    replicas = {node: _replica_link(layout, node) for node in CACHE_NODES if node != primary}
    return {"ok": role == "master" and all(link == "up" for link in replicas.values()),
            "endpoint": layout.port("cache_endpoint"), "primary": primary,
            "replicas": replicas, "used_memory": memory["used_memory"],
            "maxmemory": int(config["maxmemory"]), "policy": config["maxmemory-policy"],
            "evicted_keys": stats["evicted_keys"], "keys": keys}


def _replica_link(layout: Layout, node: str) -> str:
    """A cache replica's link to its primary: 'up', 'down', or why it is not a replica."""
    client = redis_client(layout.node_port(node))
    try:
        info = client.info("replication")
    except redis.RedisError as exc:
        return f"not answering: {exc}"
    finally:
        client.close()
    return info.get("master_link_status", "down") if info["role"] == "slave" \
        else "not a replica"


def smoke(layout: Layout) -> list[dict]:
    """One learner's journey through the load balancer and the CDN, on Open edX's API as
    the MFEs call it; a row per step."""
    base, course = layout.lb_url, course_key(1)
    unit = structure(course)["chapters"][0]["sequences"][0]["units"][0]
    problem = unit["blocks"][1]
    began = time.perf_counter()
    try:
        session = learner.login(base, "learner1", layout.settings.seed.learner_password)
        code = 200
    except learner.LoginFailed:
        session, code = requests.Session(), 0
    rows = [_row("login", code, began)]
    steps = [
        ("learner home", "GET", "/api/learner_home/init", {}),
        ("catalog", "GET", "/api/courses/v1/courses/", {}),
        ("enroll", "POST", "/api/enrollment/v1/enrollment",
         {"json": {"course_details": {"course_id": course}}}),
        ("course outline", "GET", f"/api/course_home/outline/{course}", {}),
        ("unit", "GET", f"/xblock/{unit['id']}", {}),
        ("problem check", "POST",
         f"/courses/{course}/xblock/{problem}/handler/xmodule_handler/problem_check",
         {"data": {f"input_{block_id(problem)}_2_1": "42"}}),
        ("tracking event", "POST", "/event", {"data": {"event_type": "play_video"}}),
    ]
    for name, method, path, kwargs in steps:
        rows.append(_timed(name, lambda: session.request(method, base + path, timeout=5,
                                                         allow_redirects=False, **kwargs)))
    video = layout.cdn_url + unit["video"]
    rows.append(_timed("video (CDN)", lambda: requests.get(video, timeout=5)))
    return rows


def _timed(name: str, call) -> dict:
    began = time.perf_counter()
    try:
        code = call().status_code
    except requests.RequestException:
        code = 0
    return _row(name, code, began)


def _row(name: str, code: int, began: float) -> dict:
    return {"step": name, "status": code, "ms": round((time.perf_counter() - began) * 1000, 1),
            "ok": 200 <= code < 300}


def describe(report: dict) -> list[str]:
    """A status report as the lines `edx-gameday sandbox status` prints."""
    lines = [f"sandbox: {report['state']}  ({report['state_dir']}, "
             f"RSS {report['rss_bytes'] / 2**20:.0f} MiB)"]
    if report["supervisord"] is None:
        return lines
    width = max(map(len, ["supervisord", *report["programs"]]))
    lines.append(f"  {'supervisord':<{width}} RUNNING    pid {report['supervisord']}")
    for name, prog in sorted(report["programs"].items()):
        zone = f"zone {prog['zone']}" if prog.get("zone") else "regional"
        lines.append(f"  {name:<{width}} {prog['state']:<10} {zone:<10} {prog['description']}")
    checks = report["checks"]
    lb, cdn, db, cache = checks["lb"], checks["cdn"], checks["db"], checks["cache"]
    lines.append(f"  {'lb':<12} {_ok(lb)}  {lb['url']}/heartbeat?extended -> {lb['heartbeat']}")
    lines.append(f"  {'cdn':<12} {_ok(cdn)}  edge {cdn['edge']}, origin {cdn['origin']}")
    nodes = ", ".join(f"{n}: {_node(s)}" for n, s in db["nodes"].items())
    path = db["path"]
    lines.append(f"  {'db':<12} {_ok(db)}  endpoint :{db['endpoint']} -> {db['primary']}; "
                 f"{nodes}")
    lines.append(f"  {'db path':<12} {'unreachable' if 'error' in path else 'ok':<8}  "
                 f"LMS -> :{path['port']} -> endpoint"
                 + (f", {path['error']}" if "error" in path else
                    f", delay {path['latency_ms']} +/- {path['jitter_ms']} ms, "
                    f"{path['connections']} connections"))
    if cache.get("error"):
        lines.append(f"  {'cache':<12} {_ok(cache)}  {cache['error']}")
    else:
        replicas = ", ".join(f"{n}: {link}" for n, link in cache["replicas"].items())
        lines.append(f"  {'cache':<12} {_ok(cache)}  endpoint :{cache['endpoint']} -> "
                     f"{cache['primary']}, {cache['used_memory'] / 2**20:.1f} of "
                     f"{cache['maxmemory'] / 2**20:.0f} MiB, {cache['policy']}, "
                     f"{cache['keys']} keys, {cache['evicted_keys']} evicted; {replicas}")
    if mon := checks.get("monitoring"):
        targets = ", ".join(f"{job} {t['up']}/{t['up'] + t['down']}"
                            for job, t in mon["targets"].items())
        lines.append(f"  {'monitoring':<12} {_ok(mon)}  Prometheus {mon['url']} "
                     f"(ready {mon['prometheus']}), Alertmanager ready {mon['alertmanager']}; "
                     f"targets up: {targets}")
    return lines


def _ok(check: dict) -> str:
    return "ok      " if check["ok"] else "FAILING "


def _node(state: dict) -> str:
    if state.get("error"):  # a frozen node answers nothing: say so, not "unreachable"
        return state["error"] if state["error"].startswith("not answering") else "unreachable"
    role = "read-only" if state["read_only"] else "writable"
    if "io" in state:
        role += f", replica io={state['io']} sql={state['sql']} lag={state['lag_seconds']}"
    return role
