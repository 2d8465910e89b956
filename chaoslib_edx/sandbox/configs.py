"""Render the sandbox's server configs (supervisord, nginx, MariaDB, Redis, monitoring)
from templates."""

import json
import os
import pwd
import sys

from jinja2 import Environment, PackageLoader, StrictUndefined

from chaoslib_edx.sandbox import monitoring
from chaoslib_edx.sandbox.layout import CACHE_NODES, DB_NODES, Layout

_TEMPLATES = Environment(loader=PackageLoader("chaoslib_edx.sandbox", "templates"),
                         undefined=StrictUndefined, keep_trailing_newline=True)


def render_all(layout: Layout, binaries: dict[str, str]) -> None:
    """Write every config under <state>/conf; safe to repeat (same input, same files).
    BINARIES: the servers' paths (preflight's, and monitoring's when it is enabled)."""
    for sub in (layout.conf, layout.run, layout.logs, layout.data / "nginx", layout.assets):
        sub.mkdir(parents=True, exist_ok=True)
    files = {
        "supervisord.conf": render("supervisord.conf.j2", layout=layout, db_nodes=DB_NODES,
                                    cache_nodes=CACHE_NODES,
                                    python=sys.executable, mariadbd=binaries["mariadbd"],
                                    redis_server=binaries["redis-server"],
                                    nginx=binaries["nginx"], bin=binaries),
        "nginx.conf": render("nginx.conf.j2", layout=layout,
                              stream_module=binaries["stream_module"],
                              worker_user=pwd.getpwuid(0).pw_name if os.geteuid() == 0 else None),
        "lms.json": json.dumps({"db_port": layout.port("db_path"),
                                "redis_port": layout.port("cache_endpoint"),
                                "threads": layout.settings.lms_threads,
                                "login_rate_limit": layout.settings.login_rate_limit},
                               indent=2) + "\n",
    }
    for index, node in enumerate(DB_NODES):
        files[f"{node}.cnf"] = render("mariadb.cnf.j2", layout=layout, node=node,
                                       server_id=index + 1, replica=index > 0)
    for index, node in enumerate(CACHE_NODES):
        files[f"{node}.conf"] = render("redis.conf.j2", layout=layout, node=node,
                                        primary=CACHE_NODES[0] if index else None)
    if layout.monitored:
        files.update(monitoring.files(layout, render))
    for name, text in files.items():
        (layout.conf / name).parent.mkdir(exist_ok=True)
        (layout.conf / name).write_text(text)


def render(template: str, **context: object) -> str:
    """One of the package's templates rendered with CONTEXT (a missing name is an error)."""
    return _TEMPLATES.get_template(template).render(**context)
