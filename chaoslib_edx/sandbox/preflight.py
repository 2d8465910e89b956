"""Checks before the sandbox starts: server binaries, free ports, a sane state dir.

Each failure is a UserError (one paragraph, exit 2) raised before anything is changed.
"""

import json
import shutil
from pathlib import Path

import psutil

from chaoslib_edx.errors import UserError
from chaoslib_edx.ports import listening
from chaoslib_edx.sandbox.layout import Layout

STATE_VERSION = 2  # 2: Open edX schema (courseware_studentmodule, course structure)
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")
_BINARIES = {"mariadbd": "mariadb-server", "mariadb-install-db": "mariadb-server",
             "redis-server": "redis-server", "nginx": "nginx-light"}
_INSTALL_FIX = ("Install it with `scripts/install-servers.sh` (apt-get install -y {pkg}), "
                "or run `make demo`/`make test`, which do that")


def installed(programs: dict[str, str], what: str, fix: str = _INSTALL_FIX) -> dict[str, str]:
    """Absolute paths of PROGRAMS (name -> its Debian package); a UserError naming the
    first missing one, a WHAT program, and FIX (formatted with its package)."""
    found = {}
    for name, package in programs.items():
        path = shutil.which(name)
        if path is None:
            raise UserError(f"the {what} program '{name}' is not installed",
                            fix=fix.format(pkg=package))
        found[name] = path
    return found


def binaries() -> dict[str, str]:
    """Absolute paths of the server programs the sandbox runs."""
    found = installed(_BINARIES, "server")
    if not STREAM_MODULE.exists():
        raise UserError(f"nginx's stream module ({STREAM_MODULE}) is missing; the DB endpoint "
                        "needs it", fix=_INSTALL_FIX.format(pkg="libnginx-mod-stream"))
    found["stream_module"] = str(STREAM_MODULE)
    return found


def check_ports(layout: Layout, env_file: Path | str) -> None:
    """Every sandbox port must be free on 127.0.0.1 before a cold start."""
    for name, port in layout.all_ports().items():
        if listening(port):
            holder = _listener(port)
            raise UserError(
                f"port {port} (the sandbox's {name}, port_base "
                f"{layout.settings.port_base} + offset) is already taken{holder}",
                file=env_file, field="sandbox.port_base",
                fix="Stop that process or choose another port_base (edit the file or pass "
                    "--port-base); if it is a sandbox left behind, run `edx-gameday sandbox "
                    "down` with its state dir")


def _listener(port: int) -> str:
    try:
        for conn in psutil.net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
                return f" by pid {conn.pid} ({psutil.Process(conn.pid).name()})"
    except (psutil.Error, OSError):
        pass
    return ""


def read_state(layout: Layout, env_file: Path | str) -> dict | None:
    """The state dir's state.json, None for a new dir; a UserError for a corrupt one."""
    root = layout.root
    fix = (f"Run `edx-gameday sandbox down --state-dir {root}` then remove {root}, "
           "or point state_dir elsewhere")
    if root.exists() and not root.is_dir():
        raise UserError(f"the state dir {root} exists but is not a directory",
                        file=env_file, field="sandbox.state_dir", fix=fix)
    if not root.exists() or not [p for p in root.iterdir() if p != layout.gameday_dir]:
        return None  # new, or holding only the environment's lock and ledger
    if not layout.state_file.exists():
        raise UserError(f"the state dir {root} is not empty and has no state.json, so it is "
                        "not a sandbox's (or it is corrupt)", file=env_file,
                        field="sandbox.state_dir", fix=fix)
    try:
        state = json.loads(layout.state_file.read_text())
        version, port_base = state["version"], state["port_base"]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"the sandbox state file {layout.state_file} is corrupt ({exc})",
                        file=env_file, field="sandbox.state_dir", fix=fix) from None
    if version != STATE_VERSION:
        raise UserError(f"the state dir {root} was made by another version of the sandbox "
                        f"(state version {version}, this is {STATE_VERSION})",
                        file=env_file, field="sandbox.state_dir", fix=fix)
    if port_base != layout.settings.port_base:
        raise UserError(f"the state dir {root} holds a sandbox on port_base {port_base}, not "
                        f"{layout.settings.port_base}", file=env_file, field="sandbox.port_base",
                        fix=f"Use port_base {port_base}, or run `edx-gameday sandbox down` and "
                            f"remove {root} to start afresh")
    for sub in ("conf", "run", "logs", "data"):
        if (root / sub).exists() and not (root / sub).is_dir():
            raise UserError(f"{root / sub} should be a directory", file=env_file,
                            field="sandbox.state_dir", fix=fix)
    return state
