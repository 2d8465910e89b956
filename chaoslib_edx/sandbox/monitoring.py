"""The sandbox's monitoring: Prometheus, Alertmanager, mtail and the nginx, Redis and
MariaDB exporters from Debian's packages, and the SLO rules Prometheus evaluates.

The rules come from the SLO catalog (slo.rules), compressed for a game day as the
settings say; `sandbox up` writes them and reloads Prometheus when they changed.
"""

import json

from chaoslib_edx.files import default_file, replace_text
from chaoslib_edx.routes import LATENCY_BUCKETS_S, TIERS
from chaoslib_edx.sandbox import preflight
from chaoslib_edx.sandbox.clients import http_get
from chaoslib_edx.sandbox.layout import DB_NODES, Layout
from chaoslib_edx.slo.catalog import DEFAULT_CATALOG, load_catalog
from chaoslib_edx.slo.rules import render as render_rules

# Program -> its Debian package.
BINARIES = {"prometheus": "prometheus", "promtool": "prometheus",
            "prometheus-alertmanager": "prometheus-alertmanager", "mtail": "mtail",
            "prometheus-nginx-exporter": "prometheus-nginx-exporter",
            "prometheus-redis-exporter": "prometheus-redis-exporter",
            "prometheus-mysqld-exporter": "prometheus-mysqld-exporter"}
# The pager's integration key: the sandbox's pager is ours, so this is no secret.
ROUTING_KEY = "sandbox0pager0routing0key0000000"
# Scrape jobs of prometheus.yml.j2, each of which must have its targets up.
JOBS = ("lms", "mtail", "nginx", "redis", "mysqld", "alertmanager", "prometheus")


def binaries() -> dict[str, str]:
    """Absolute paths of the monitoring programs; a UserError naming the missing one."""
    return preflight.installed(BINARIES, "monitoring",
                               "Install it with `scripts/install-servers.sh` (apt-get install -y "
                               "{pkg}), or set sandbox.monitoring.enabled: false")


def files(layout: Layout, templates) -> dict[str, str]:
    """The monitoring's config files, by path relative to <state>/conf."""
    seconds = layout.settings.monitoring.scrape_interval_s
    rendered = {
        "prometheus.yml": templates("prometheus.yml.j2", layout=layout, interval=f"{seconds:g}s",
                                    slow_interval=f"{max(seconds, 5):g}s", db_nodes=DB_NODES),
        "alertmanager.yml": templates("alertmanager.yml.j2", layout=layout,
                                      routing_key=ROUTING_KEY),
        "mtail/access.mtail": templates("access.mtail.j2", tiers=TIERS,
                                        buckets=[f"{b:g}" for b in LATENCY_BUCKETS_S]),
        "slo-rules.yaml": rules(layout),
    }
    for node in DB_NODES:
        # root over the node's socket: socket auth, so no secret. mysqld_exporter 0.14
        # refuses a [client] without a password; socket auth never reads it.
        rendered[f"mysqld-exporter-{node}.cnf"] = (
            f"[client]\nuser=root\npassword=unused-socket-auth\n"
            f"socket={layout.db_socket(node)}\n")
    return rendered


def rules(layout: Layout) -> str:
    """The rules generated from the SLO catalog for this sandbox's settings."""
    source = default_file(DEFAULT_CATALOG)
    monitoring = layout.settings.monitoring
    return render_rules(load_catalog(source), source, monitoring.compress_for_s,
                        monitoring.scrape_interval_s)


def sync_rules(layout: Layout) -> bool:
    """Regenerate the rules; when they changed, write them and have Prometheus reload.
    True when they changed."""
    text = rules(layout)
    if layout.rules_file.exists() and layout.rules_file.read_text() == text:
        return False
    replace_text(layout.rules_file, text)
    code, body, _ = http_get(f"{layout.prometheus_url}/-/reload", timeout=10, data=b"")
    if code != 200:
        raise RuntimeError(f"Prometheus did not reload the new rules ({code}: {body[:200]!r})")
    return True


def check(layout: Layout) -> dict:
    """Prometheus and Alertmanager ready, every scrape target up."""
    prometheus = http_get(f"{layout.prometheus_url}/-/ready")[0]
    alertmanager = http_get(f"{layout.alertmanager_url}/-/ready")[0]
    code, body, _ = http_get(f"{layout.prometheus_url}/api/v1/targets?state=active")
    targets: dict[str, dict[str, int]] = {job: {"up": 0, "down": 0} for job in JOBS}
    if code == 200:
        for target in json.loads(body)["data"]["activeTargets"]:
            job = targets.setdefault(target["labels"]["job"], {"up": 0, "down": 0})
            job["up" if target["health"] == "up" else "down"] += 1
    ok = (prometheus == 200 and alertmanager == 200
          and all(t["up"] and not t["down"] for t in targets.values()))
    return {"ok": ok, "prometheus": prometheus, "alertmanager": alertmanager,
            "url": layout.prometheus_url, "targets": targets}
