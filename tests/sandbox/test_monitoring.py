"""The sandbox's monitoring: Prometheus and Alertmanager ready, every exporter and mtail
target up, the generated SLO rules loaded, and under load every rule's SLI has data."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests
import yaml

from chaoslib_edx.sandbox.monitoring import JOBS
from tests.conftest import REPO, program_pids, run_cli
from tests.sandbox.helpers import settled

pytestmark = pytest.mark.sandbox


def _query(sandbox, expr: str, at: float | None = None) -> list[dict]:
    params = {"query": expr, **({"time": f"{at:.3f}"} if at else {})}
    body = requests.get(f"{sandbox.layout.prometheus_url}/api/v1/query", params=params,
                        timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def _rules(sandbox) -> list[dict]:
    body = requests.get(f"{sandbox.layout.prometheus_url}/api/v1/rules", timeout=10).json()
    return [rule for group in body["data"]["groups"] for rule in group["rules"]]


def test_prometheus_and_alertmanager_ready_every_target_up(sandbox) -> None:
    for url in (sandbox.layout.prometheus_url, sandbox.layout.alertmanager_url):
        assert requests.get(f"{url}/-/ready", timeout=5).status_code == 200, url
    status = sandbox.status()
    monitoring = status["checks"]["monitoring"]
    assert monitoring["ok"], monitoring
    assert set(monitoring["targets"]) == set(JOBS)
    assert monitoring["targets"]["lms"]["up"] == sandbox.layout.settings.lms_replicas
    assert monitoring["targets"]["mysqld"]["up"] == 2
    programs = set(status["programs"])
    assert {"prometheus", "alertmanager", "mtail", "nginx-exporter", "redis-exporter",
            "mysqld-exporter-db-a", "mysqld-exporter-db-b"} <= programs
    text = sandbox.cli("sandbox", "status").stdout
    assert "monitoring" in text and "mtail 1/1" in text
    # The exporters see what they export: MariaDB and Redis up, nginx connections.
    assert {r["metric"]["node"]: r["value"][1] for r in _query(sandbox, "mysql_up")} == \
        {"db-a": "1", "db-b": "1"}
    assert _query(sandbox, "redis_up")[0]["value"][1] == "1"
    assert float(_query(sandbox, "nginx_connections_active")[0]["value"][1]) >= 1


def test_promtool_accepts_the_rendered_prometheus_config(sandbox) -> None:
    result = subprocess.run(["promtool", "check", "config",
                             str(sandbox.layout.conf / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 64 rules found" in result.stdout


def test_the_loaded_rules_are_the_catalogs_compressed_ones(sandbox) -> None:
    rules = _rules(sandbox)
    alerts = [r for r in rules if r["type"] == "alerting"]
    assert sorted({a["labels"]["slo"] for a in alerts}) == \
        ["api-latency", "authentication", "lms-availability", "video-delivery"]
    assert all(r["health"] == "ok" for r in rules), [r for r in rules if r["health"] != "ok"]
    windows = {r["name"] for r in rules if r["type"] == "recording"}
    assert "slo:sli_error:ratio_rate4s" in windows  # compressed for a 480 s game day


LB_REQUESTS = 'sum(edx_http_requests_total{tier="lb"})'


def _lb_requests_settled(sandbox) -> float:
    """The LB's request count in Prometheus once it has stopped moving for 3 s: past
    nginx's 1 s log flush, mtail's read and the 1 s scrape."""
    def count() -> float:
        found = _query(sandbox, LB_REQUESTS)
        return float(found[0]["value"][1]) if found else 0.0

    return settled(count, still_s=3)


@pytest.fixture(scope="module")
def under_load(sandbox, tmp_path_factory):
    """30 s of the course-launch profile through Locust: (the time in the middle of it, the
    time just before it, Locust's stats)."""
    out = tmp_path_factory.mktemp("monitored-load")
    _lb_requests_settled(sandbox)  # the earlier tests' requests are counted before it
    began = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "loadprofiles/course_launch.py"),
         "--headless", "-t", "30s", "--host", sandbox.layout.lb_url, "-u", "20", "-r", "20",
         "--json-file", str(out / "locust"), "--only-summary"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "EDX_CDN_URL": sandbox.layout.cdn_url, "EDX_LEARNERS": "200",
             "EDX_COURSES": "4", "EDX_BASELINE_USERS": "20", "EDX_PEAK_USERS": "20",
             "EDX_BASELINE_S": "40", "EDX_SPIKE_S": "0", "EDX_PLATEAU_S": "0",
             "EDX_DECAY_S": "0", "EDX_TIME_SCALE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    _lb_requests_settled(sandbox)  # every request of the load is counted
    return began + 20, began - 1, json.loads((out / "locust.json").read_text())


def test_every_rules_sli_expression_has_data_under_load(sandbox, under_load) -> None:
    """A rule over series nobody exports would never fire: each recorded SLI expression,
    evaluated in the middle of the load, returns a sample."""
    at, _, _ = under_load
    records = [r for r in _rules(sandbox) if r["type"] == "recording"]
    # 4 SLOs x (5 alerting windows, the 30-day period, Sloth's 7 metadata series)
    assert len(records) == 4 * (5 + 1 + 7)
    empty = [(r["labels"]["sloth_slo"], r["name"]) for r in records
             if not _query(sandbox, r["query"], at)]
    assert not empty, empty
    # And the recorded series themselves exist, per SLO, under Sloth's labels.
    recorded = _query(sandbox, "count by (sloth_slo) "
                               "({__name__=~'slo:sli_error:ratio_rate.+'})", at)
    assert {r["metric"]["sloth_slo"] for r in recorded} == \
        {"lms-availability", "api-latency", "video-delivery", "authentication"}


def test_lb_counts_in_prometheus_match_the_loads(sandbox, under_load) -> None:
    """mtail's LB counters grew by what Locust sent, per class (the load is the only
    traffic meanwhile; raw counter values, since increase() misses a new series' start)."""
    _, before, stats = under_load
    for cls in ("auth", "api", "tracking"):
        sent = sum(s["num_requests"] for s in stats if s["name"].startswith(f"{cls}: "))
        expr = f'sum(edx_http_requests_total{{tier="lb",route_class="{cls}"}})'
        was = _query(sandbox, expr, before)
        now = _query(sandbox, expr)
        grew = float(now[0]["value"][1]) - (float(was[0]["value"][1]) if was else 0)
        assert sent > 20 and grew == pytest.approx(sent, rel=0.02), (cls, grew, sent)


def test_each_lms_replica_exports_its_own_requests(sandbox, under_load) -> None:
    text = requests.get(f"http://127.0.0.1:{sandbox.layout.lms_ports['lms-1']}/metrics",
                        timeout=5).text
    for cls in ("auth", "lms", "api", "tracking"):
        assert f'edx_http_requests_total{{route_class="{cls}",status="200"}}' in text, cls
    assert 'edx_http_request_duration_seconds_bucket{le="0.5",route_class="api"}' in text


def test_a_changed_catalog_regenerates_the_rules_at_up(sandbox, tmp_path: Path) -> None:
    """`sandbox up` from a directory whose gamedays/slos.yaml differs reloads Prometheus."""
    catalog = yaml.safe_load((REPO / "gamedays/slos.yaml").read_text())
    catalog["slos"][0]["objective"] = 0.995
    (tmp_path / "gamedays").mkdir()
    (tmp_path / "gamedays/slos.yaml").write_text(yaml.safe_dump(catalog))
    env = str(sandbox.env_file)
    try:
        result = subprocess.run([sys.executable, "-m", "chaoslib_edx", "sandbox", "up",
                                 "--env", env], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert result.returncode == 0, result.stderr
        assert "slo rules" in result.stdout
        page = next(r for r in _rules(sandbox) if r["type"] == "alerting"
                    and r["labels"] == {"rule": "page", "severity": "page",
                                        "slo": "lms-availability"})
        assert "14.4 * 0.005" in page["query"]
    finally:
        restored = run_cli("sandbox", "up", "--env", env)  # from the repository: its catalog
    assert restored.returncode == 0 and "slo rules" in restored.stdout
    assert any("14.4 * 0.001" in r["query"] for r in _rules(sandbox)
               if r["type"] == "alerting" and r["labels"]["slo"] == "lms-availability")


def test_the_monitoring_listens_on_loopback_only(sandbox) -> None:
    """Every socket any monitoring program listens on is on 127.0.0.1, in the port block."""
    pids = set(program_pids(sandbox.layout, "monitoring").values())
    assert len(pids) == 8  # the pager too
    listening = [c.laddr for c in psutil.net_connections("tcp")
                 if c.status == "LISTEN" and c.pid in pids]
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening
    base = sandbox.layout.settings.port_base
    assert all(base <= addr.port < base + 30 for addr in listening), listening
