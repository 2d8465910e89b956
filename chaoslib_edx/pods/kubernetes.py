"""Replica loss on Kubernetes (EKS): chaosk8s terminates pods by label selector; a held
loss scales the deployment down, and its rollback back to the count it had."""

from chaosk8s import create_k8s_api_client
from chaosk8s.pod.actions import terminate_pods
from chaoslib.types import Secrets
from kubernetes import client

from chaoslib_edx.pods.contract import (
    KillResult,
    KubernetesDeployment,
    ReadyResult,
    StopResult,
)
from chaoslib_edx.targets import Target
from chaoslib_edx.waiting import wait_until


def _apps(secrets: Secrets | None) -> client.AppsV1Api:
    return client.AppsV1Api(create_k8s_api_client(secrets))


def _deployment(target: Target, secrets: Secrets | None):
    spec: KubernetesDeployment = target.spec
    return _apps(secrets).read_namespaced_deployment(spec.name,
                                                     target.environment.kubernetes.namespace)


def _scale(target: Target, secrets: Secrets | None, replicas: int) -> None:
    spec: KubernetesDeployment = target.spec
    _apps(secrets).patch_namespaced_deployment_scale(
        spec.name, target.environment.kubernetes.namespace, {"spec": {"replicas": replicas}})


def replicas(target: Target, *, secrets: Secrets | None) -> int:
    return _deployment(target, secrets).spec.replicas


def kill(target: Target, *, secrets: Secrets | None, count: int,
         grace_period_seconds: int) -> KillResult:
    spec: KubernetesDeployment = target.spec
    killed = terminate_pods(label_selector=spec.label_selector, qty=count, rand=True,
                            mode="fixed", grace_period=grace_period_seconds,
                            ns=target.environment.kubernetes.namespace, secrets=secrets)
    # The kubelet sends SIGTERM and SIGKILL after the grace period; zero is a SIGKILL.
    return {"killed": sorted(killed), "signal": "SIGTERM" if grace_period_seconds else "SIGKILL"}


def running(target: Target, *, secrets: Secrets | None) -> int:
    """Ready replicas of the deployment now."""
    return _deployment(target, secrets).status.ready_replicas or 0


def ready(target: Target, *, secrets: Secrets | None) -> bool:
    deployment = _deployment(target, secrets)
    return (deployment.status.ready_replicas or 0) >= deployment.spec.replicas


def wait_ready(target: Target, *, secrets: Secrets | None,
               timeout_seconds: float) -> ReadyResult:
    wait_until(lambda: ready(target, secrets=secrets), timeout=timeout_seconds,
               what=f"deployment '{target.name}' with every replica ready", interval=0.5,
               max_interval=5)
    return {"ready_replicas": _deployment(target, secrets).status.ready_replicas or 0}


def stop(target: Target, *, secrets: Secrets | None, count: int) -> StopResult:
    before = replicas(target, secrets=secrets)
    _scale(target, secrets, before - count)
    return {"stopped": [f"{target.name}: scaled from {before} to {before - count}"],
            "replicas": before}


def restore(target: Target, *, secrets: Secrets | None, replicas: int,
            timeout_seconds: float) -> ReadyResult:
    _scale(target, secrets, replicas)
    return wait_ready(target, secrets=secrets, timeout_seconds=timeout_seconds)
