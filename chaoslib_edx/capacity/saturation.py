"""What saturates while a sweep runs: each component's CPU and memory, sampled once a
second from its processes (psutil), and the platform's own series where it keeps them
(the sandbox's exporters through Prometheus; CloudWatch on AWS), read once a sweep ends.
"""

import json
import threading
import time
from pathlib import Path

import psutil

# Sandbox exporter series (Debian's mysqld, Redis and nginx exporters): name -> PromQL.
EXPORTER_QUERIES = {
    "mariadb queries/s": "sum(rate(mysql_global_status_queries[15s]))",
    "mariadb threads running": "max(mysql_global_status_threads_running)",
    "redis memory used (MiB)": "max(redis_memory_used_bytes) / 1048576",
    "redis commands/s": "sum(rate(redis_commands_processed_total[15s]))",
    "nginx active connections": "sum(nginx_connections_active)",
}
# AWS: CloudWatch metrics of the inventory's targets: (namespace, metric, dimension).
CLOUDWATCH_METRICS = {
    "databases": ("AWS/RDS", "CPUUtilization", "DBInstanceIdentifier"),
    "caches": ("AWS/ElastiCache", "EngineCPUUtilization", "ReplicationGroupId"),
}


class ProcessSampler(threading.Thread):
    """Appends a line a second to OUT: host CPU, and per component the CPU (% of one core,
    summed over its processes and their children, and its busiest process's) and resident
    memory."""

    def __init__(self, components: dict[str, list[int]], out: Path,
                 interval_s: float = 1.0) -> None:
        super().__init__(name="saturation", daemon=True)
        self.components, self.out, self.interval_s = components, out, interval_s
        self._halt = threading.Event()
        self._procs: dict[str, list[psutil.Process]] = {}

    def _processes(self, pids: list[int]) -> list[psutil.Process]:
        found = []
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                found += [proc, *proc.children(recursive=True)]
            except psutil.Error:
                pass
        for proc in found:
            try:
                proc.cpu_percent(None)  # the first call only starts the measurement
            except psutil.Error:
                pass
        return found

    def run(self) -> None:
        self._procs = {name: self._processes(pids) for name, pids in self.components.items()}
        psutil.cpu_percent(None)
        with self.out.open("a") as handle:
            while not self._halt.wait(self.interval_s):
                line = {"t": int(time.time()), "host_cpu": psutil.cpu_percent(None),
                        "cpus": psutil.cpu_count() or 1, "components": {}}
                for name, procs in self._procs.items():
                    cpu = rss = alive = busiest = 0
                    for proc in procs:
                        try:
                            used = proc.cpu_percent(None)
                            rss += proc.memory_info().rss
                        except psutil.Error:  # a stopped replica: it adds nothing
                            continue
                        cpu, busiest, alive = cpu + used, max(busiest, used), alive + 1
                    line["components"][name] = {"cpu": round(cpu, 1),
                                                "max_cpu": round(busiest, 1),
                                                "rss_mib": round(rss / 2**20, 1),
                                                "processes": alive}
                handle.write(json.dumps(line) + "\n")
                handle.flush()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def read_samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def prometheus_series(url: str, start: float, end: float) -> dict[str, list[list[float]]]:
    """EXPORTER_QUERIES over [START, END] at 1 s; a query Prometheus cannot answer is
    left out (an exporter that is down has no series to show)."""
    from chaoslib_edx.detection.prometheus import Prometheus

    prometheus = Prometheus(url)
    found = {}
    for name, query in EXPORTER_QUERIES.items():
        try:
            result = prometheus.query_range(query, start, end, 1)
        except Exception:  # noqa: BLE001 - a missing series is not a failed sweep
            continue
        if result:
            found[name] = [[float(t), float(v)] for t, v in result[0]["values"]]
    return found


def cloudwatch_series(client, targets: dict[str, list[str]], start: float, end: float
                      ) -> dict[str, list[list[float]]]:
    """CLOUDWATCH_METRICS of each target (kind -> identifiers) at 1-minute resolution."""
    from datetime import datetime, timezone

    found = {}
    for kind, identifiers in targets.items():
        namespace, metric, dimension = CLOUDWATCH_METRICS[kind]
        for identifier in identifiers:
            points = client.get_metric_statistics(
                Namespace=namespace, MetricName=metric, Statistics=["Average"], Period=60,
                Dimensions=[{"Name": dimension, "Value": identifier}],
                StartTime=datetime.fromtimestamp(start, timezone.utc),
                EndTime=datetime.fromtimestamp(end + 60, timezone.utc))["Datapoints"]
            found[f"{identifier} {metric} (%)"] = sorted(
                [p["Timestamp"].timestamp(), p["Average"]] for p in points)
    return found
