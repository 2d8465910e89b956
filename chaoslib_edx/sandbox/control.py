"""Bring the sandbox up (idempotent), take it down (no process left), find its processes."""

import json
import os
import signal
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

from chaoslib_edx.errors import UserError
from chaoslib_edx.files import replace_text
from chaoslib_edx.sandbox import (
    assets,
    configs,
    credentials,
    database,
    endpoints,
    health,
    monitoring,
    netpath,
    preflight,
)
from chaoslib_edx.sandbox.layout import CACHE_NODES, DB_NODES, Layout
from chaoslib_edx.sandbox.supervisor import Supervisor


@dataclass
class UpResult:
    already_up: bool
    started: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cleared: list[str] = field(default_factory=list)  # what runs that are gone left behind


def up(layout: Layout, env_file: Path | str, timeout: float = 90,
       hold: Callable[[], AbstractContextManager] = nullcontext) -> UpResult:
    """Start whatever is not running and wait until /heartbeat is healthy through the LB.
    HOLD() is entered once the checks passed, before the first change, and held to the end
    (the environment's lease: a run must not see the sandbox change under it); when it
    yields the run that holds the lease, no other run is live, and a database delay one
    left behind is cleared (it is kept across the path's restarts, as a network fault)."""
    began = time.monotonic()
    binaries = preflight.binaries()
    if layout.monitored:
        binaries.update(monitoring.binaries())
    state = preflight.read_state(layout, env_file)
    sup = Supervisor(layout)
    with ExitStack() as held:
        if sup.is_running():
            if layout.monitored and "prometheus" not in {i["name"] for i in sup.processes()}:
                raise UserError("this sandbox was started without its monitoring",
                                file=env_file, field="sandbox.monitoring.enabled",
                                fix="Run `edx-gameday sandbox down`, then `sandbox up` again")
            sole = held.enter_context(hold()) is not None
            started = [info["name"] for info in sup.processes()
                       if info["statename"] != "RUNNING"]
            for name in started:
                sup.start(name)
            health.wait_healthy(layout, timeout)
            database.ensure_schema(layout)
            if layout.monitored and monitoring.sync_rules(layout):  # a changed catalog
                started.append("slo rules")
            cleared = _clear_orphaned_delay(layout) if sole else []
            return UpResult(not started, started, time.monotonic() - began, cleared)

        preflight.check_ports(layout, env_file)
        sole = held.enter_context(hold()) is not None
        layout.root.mkdir(parents=True, exist_ok=True)
        if state is None:
            state = {"version": preflight.STATE_VERSION,
                     "port_base": layout.settings.port_base, "bootstrapped": False}
            _write_state(layout, state)
        creds = credentials.ensure(layout.secrets_file)
        configs.render_all(layout, binaries)
        endpoints.ensure(layout)
        assets.ensure(layout)
        database.install_datadirs(layout)
        sup.start_daemon()
        if not state["bootstrapped"]:
            database.bootstrap(layout, creds)
            state["bootstrapped"] = True
            _write_state(layout, state)
        health.wait_healthy(layout, timeout)
        database.ensure_schema(layout)
        if not state.get("binlogs_clean"):  # a sandbox from before the users left the binlog
            database.purge_binlogs(layout)
            state["binlogs_clean"] = True
            _write_state(layout, state)
        inventory = write_inventory(layout, sup)
        cleared = _clear_orphaned_delay(layout) if sole else []
        return UpResult(False, inventory["programs"], time.monotonic() - began, cleared)


def _clear_orphaned_delay(layout: Layout) -> list[str]:
    """Set the database path's delay to zero when a run that is gone left it (the caller
    holds the environment's lease, so none is live); what was cleared, in words."""
    kept = netpath.control(layout.db_path_socket, {})
    if not kept["latency_ms"]:
        return []
    netpath.control(layout.db_path_socket, {"latency_ms": 0, "jitter_ms": 0})
    owner = (kept.get("owner") or {}).get("label", "a run of an earlier version")
    return [f"a {kept['latency_ms']} ms delay on the LMS's database path, left by {owner} "
            "(no longer running); `edx-gameday recover` settles its rollback"]


def down(layout: Layout, timeout: float = 60) -> list[int]:
    """Stop supervisord and everything it owns; kill any process of ours left behind.

    Returns the PIDs that were running before, all of which are gone on return.
    """
    before = [p.pid for p in sandbox_processes(layout)]
    sup = Supervisor(layout)
    if sup.pid() is not None:
        sup.shutdown(timeout)
    leftovers = sandbox_processes(layout)
    for proc in leftovers:
        _signal(proc, signal.SIGTERM)
    _, alive = psutil.wait_procs(leftovers, timeout=10)
    for proc in alive:
        _signal(proc, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    return before


def _signal(proc: psutil.Process, sig: signal.Signals) -> None:
    try:
        proc.send_signal(sig)
    except psutil.NoSuchProcess:
        pass


def sandbox_processes(layout: Layout) -> list[psutil.Process]:
    """Every live process of this sandbox: those naming its state dir, and their children."""
    root = str(layout.root)
    markers = (f"{root}/conf/", f"{root}/assets")
    # supervisord tells each child its socket: how an exporter without a config file of
    # ours on its command line is known after supervisord itself died.
    supervised = f"unix://{layout.supervisor_socket}"
    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
        cmdline = proc.info["cmdline"] or []
        if proc.pid in mine:
            continue
        ours = any(m in arg for arg in cmdline for m in markers) or (
            "chaoslib_edx.sandbox.lms" in cmdline and root in cmdline) or (
            (proc.info["environ"] or {}).get("SUPERVISOR_SERVER_URL") == supervised)
        if ours:
            found[proc.pid] = proc
            try:
                found.update({c.pid: c for c in proc.children(recursive=True)})
            except psutil.NoSuchProcess:
                pass
    return list(found.values())


def rss_bytes(layout: Layout) -> int:
    """Resident memory of every process of this sandbox."""
    total = 0
    for proc in sandbox_processes(layout):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:  # it ended while we looked
            pass
    return total


def write_inventory(layout: Layout, sup: Supervisor) -> dict:
    """Write <state>/inventory.yaml: where everything of the sandbox listens, for people
    and outside tools (the drivers derive the same from the environment file). What
    changes while it runs, such as the primary database node, is for `sandbox status`."""
    inventory = {
        "driver": "sandbox",
        "state_dir": str(layout.root),
        "port_base": layout.settings.port_base,
        "secrets_file": str(layout.secrets_file),
        "supervisor_socket": str(layout.supervisor_socket),
        "lms": {"url": layout.lb_url,
                "replicas": {name: {"port": port, "program": f"lms:{name}"}
                             for name, port in layout.lms_ports.items()}},
        "cdn": {"url": layout.cdn_url, "origin_url": f"http://127.0.0.1:{layout.port('origin')}",
                "origin_program": "origin"},
        "database": {"endpoint": {"host": "127.0.0.1", "port": layout.port("db_endpoint")},
                     "path": {"port": layout.port("db_path"), "program": "db-path",
                              "control_socket": str(layout.db_path_socket)},
                     "name": "edxapp", "user": "edxapp",
                     "nodes": {node: {"port": layout.db_port(node), "program": node}
                               for node in DB_NODES}},
        "cache": {"endpoint": {"host": "127.0.0.1", "port": layout.port("cache_endpoint")},
                  "nodes": {node: {"port": layout.node_port(node), "program": node}
                            for node in CACHE_NODES},
                  "maxmemory": layout.settings.redis.maxmemory,
                  "maxmemory_policy": layout.settings.redis.maxmemory_policy},
        "zones": layout.zones,
        "monitoring": {"prometheus_url": layout.prometheus_url,
                       "alertmanager_url": layout.alertmanager_url,
                       "rules_file": str(layout.rules_file)} if layout.monitored else None,
        "programs": sorted(_program_name(info) for info in sup.processes()),
    }
    layout.inventory_file.write_text(
        "# Written by `edx-gameday sandbox up`; secrets are in secrets_file, not here.\n"
        + yaml.safe_dump(inventory, sort_keys=False))
    return inventory


def _program_name(info: dict) -> str:
    return info["name"] if info["group"] == info["name"] else f"{info['group']}:{info['name']}"


def _write_state(layout: Layout, state: dict) -> None:
    replace_text(layout.state_file, json.dumps(state, indent=2) + "\n")
