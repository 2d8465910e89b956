"""A small fake Kubernetes API server over HTTP, for chaosk8s and the kubernetes client.

No Kubernetes API server can be installed on this machine (no container runtime, no
cluster), so this serves, on 127.0.0.1 and an ephemeral port, the calls our pod faults
make: list pods by label selector, delete a pod (recording its grace period), read a
deployment, patch its scale. A deleted pod is replaced by a new one that turns ready after
READY_AFTER_S, as a ReplicaSet's would. Requests cross the wire: the client is real.
"""

import json
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from tests.fakehttp import FakeServer, JsonHandler

READY_AFTER_S = 0.5


class Cluster:
    """One deployment's pods: name -> (labels, time it becomes ready)."""

    def __init__(self, namespace: str, deployment: str, labels: dict, replicas: int) -> None:
        self.namespace, self.deployment, self.labels = namespace, deployment, labels
        self.replicas = replicas
        self.pods = {f"{deployment}-{i}": 0.0 for i in range(replicas)}
        self.deleted: list[tuple[str, int | None]] = []
        self.scaled: list[int] = []  # each count a scale PATCH set
        self.requests: list[tuple[str, str]] = []  # (method, path): what RBAC must allow
        self._serial = replicas
        self.lock = threading.Lock()

    def delete(self, name: str, grace: int | None) -> bool:
        with self.lock:
            if self.pods.pop(name, None) is None:
                return False
            self.deleted.append((name, grace))
            self.pods[f"{self.deployment}-{self._serial}"] = time.monotonic() + READY_AFTER_S
            self._serial += 1
            return True

    def scale(self, replicas: int) -> None:
        """The deployment's new count: the newest pods go, new ones come up not yet ready."""
        with self.lock:
            for name in sorted(self.pods, key=lambda n: int(n.rsplit("-", 1)[1]))[replicas:]:
                del self.pods[name]
            while len(self.pods) < replicas:
                self.pods[f"{self.deployment}-{self._serial}"] = time.monotonic() + READY_AFTER_S
                self._serial += 1
            self.replicas = replicas
            self.scaled.append(replicas)

    def ready(self) -> int:
        now = time.monotonic()
        return sum(1 for ready_at in self.pods.values() if ready_at <= now)

    def pod(self, name: str) -> dict:
        ready = self.pods.get(name, 0) <= time.monotonic()
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": self.namespace, "labels": self.labels},
                "status": {"phase": "Running" if ready else "Pending"}}


def _handler(cluster: Cluster):
    class Handler(JsonHandler):
        def _matches(self, selector: str) -> bool:
            wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
            return all(cluster.labels.get(k) == v for k, v in wanted.items())

        def _record(self) -> None:
            cluster.requests.append((self.command, urlparse(self.path).path))

        def do_GET(self) -> None:
            self._record()
            url = urlparse(self.path)
            pods = f"/api/v1/namespaces/{cluster.namespace}/pods"
            deployment = f"/apis/apps/v1/namespaces/{cluster.namespace}/deployments/" \
                         f"{cluster.deployment}"
            if url.path == pods:
                selector = parse_qs(url.query).get("labelSelector", [""])[0]
                items = [cluster.pod(n) for n in sorted(cluster.pods)] \
                    if self._matches(selector) else []
                self._send(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {},
                                 "items": items})
            elif url.path == deployment:
                self._send(200, {"apiVersion": "apps/v1", "kind": "Deployment",
                                 "metadata": {"name": cluster.deployment,
                                              "namespace": cluster.namespace},
                                 "spec": {"replicas": cluster.replicas,
                                          "selector": {"matchLabels": cluster.labels},
                                          "template": {"metadata": {"labels": cluster.labels}}},
                                 "status": {"replicas": len(cluster.pods),
                                            "readyReplicas": cluster.ready()}})
            else:
                self._send(404, {"kind": "Status", "code": 404, "message": url.path})

        def do_PATCH(self) -> None:
            self._record()
            scale = f"/apis/apps/v1/namespaces/{cluster.namespace}/deployments/" \
                    f"{cluster.deployment}/scale"
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if urlparse(self.path).path != scale:
                self._send(404, {"kind": "Status", "code": 404, "message": self.path})
                return
            cluster.scale(int(body["spec"]["replicas"]))
            self._send(200, {"apiVersion": "autoscaling/v1", "kind": "Scale",
                             "metadata": {"name": cluster.deployment,
                                          "namespace": cluster.namespace},
                             "spec": {"replicas": cluster.replicas},
                             "status": {"replicas": len(cluster.pods)}})

        def do_DELETE(self) -> None:
            self._record()
            prefix = f"/api/v1/namespaces/{cluster.namespace}/pods/"
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            name = urlparse(self.path).path.removeprefix(prefix)
            if cluster.delete(name, body.get("gracePeriodSeconds")):
                self._send(200, cluster.pod(name) | {"status": {"phase": "Terminating"}})
            else:
                self._send(404, {"kind": "Status", "code": 404, "message": name})

    return Handler


class FakeApiServer(FakeServer):
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        super().__init__(_handler(cluster))


@pytest.fixture
def eks(tmp_path: Path, monkeypatch):
    """A six-pod LMS deployment behind the fake API, and a configuration naming it."""
    cluster = Cluster("openedx", "lms", {"app": "lms", "tier": "web"}, replicas=6)
    with FakeApiServer(cluster) as api:
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
        monkeypatch.setenv("KUBERNETES_HOST", api.url)
        env = tmp_path / "staging.yaml"
        env.write_text(yaml.safe_dump({
            "name": "staging", "kind": "staging", "driver": "aws",
            "aws": {"region": "eu-west-1"},
            "kubernetes": {"namespace": "openedx", "deployments": {
                "lms": {"name": "lms", "label_selector": "app=lms,tier=web"}}}}))
        yield cluster, {"edx_environment": str(env), "edx_ledger": str(tmp_path / "ledger")}
