"""Replica probes: are all LMS replicas ready."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.targets import resolve

__all__ = ["lms_replicas_ready"]


def lms_replicas_ready(deployment: str = "lms", configuration: Configuration = None,
                       secrets: Secrets = None) -> bool:
    """True when every LMS replica answers its heartbeat (Kubernetes: ready replicas
    reach the deployment's desired count)."""
    return resolve("pods", deployment, configuration).drive("ready", secrets)
