"""Replica loss on Kubernetes (EKS): chaosk8s terminates pods by label selector."""

import time

from chaosk8s import create_k8s_api_client
from chaosk8s.pod.actions import terminate_pods
from chaoslib.types import Secrets
from kubernetes import client

from chaoslib_edx.environment import KubernetesDeployment
from chaoslib_edx.targets import Target


def _deployment(target: Target, secrets: Secrets | None):
    spec: KubernetesDeployment = target.spec
    apps = client.AppsV1Api(create_k8s_api_client(secrets))
    return apps.read_namespaced_deployment(spec.name, target.environment.kubernetes.namespace)


def replicas(target: Target, *, secrets: Secrets | None) -> int:
    return _deployment(target, secrets).spec.replicas


def kill(target: Target, *, secrets: Secrets | None, count: int,
         grace_period_seconds: int) -> dict:
    spec: KubernetesDeployment = target.spec
    terminate_pods(label_selector=spec.label_selector, qty=count, rand=True, mode="fixed",
                   grace_period=grace_period_seconds,
                   ns=target.environment.kubernetes.namespace, secrets=secrets)
    return {"killed": count, "label_selector": spec.label_selector}


def ready(target: Target, *, secrets: Secrets | None) -> bool:
    deployment = _deployment(target, secrets)
    return (deployment.status.ready_replicas or 0) >= deployment.spec.replicas


def wait_ready(target: Target, *, secrets: Secrets | None, timeout_seconds: float) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while not ready(target, secrets=secrets):
        if time.monotonic() > deadline:
            raise RuntimeError(f"deployment '{target.name}' not ready within "
                               f"{timeout_seconds:.0f}s")
        time.sleep(2)
    return {"ready": True}
