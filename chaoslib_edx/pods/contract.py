"""What every replica driver provides, and what a cloud inventory says of a deployment."""

from typing import TYPE_CHECKING, Protocol, TypedDict

from chaoslib_edx.model import Model

if TYPE_CHECKING:
    from chaoslib.types import Secrets

    from chaoslib_edx.targets import Target


class KillResult(TypedDict):
    killed: list[str]   # the replicas (processes or pods) killed, by name
    signal: str         # SIGKILL for a zero grace period, else SIGTERM first


class ReadyResult(TypedDict):
    ready_replicas: int


class StopResult(TypedDict):
    stopped: list[str]  # the replicas kept stopped (sandbox processes), or "scaled down"
    replicas: int       # how many there were: what the rollback brings back


class PodsDriver(Protocol):
    def replicas(self, target: "Target", *, secrets: "Secrets | None") -> int: ...

    def kill(self, target: "Target", *, secrets: "Secrets | None", count: int,
             grace_period_seconds: int) -> KillResult: ...

    def ready(self, target: "Target", *, secrets: "Secrets | None") -> bool: ...

    def running(self, target: "Target", *, secrets: "Secrets | None") -> int: ...

    def wait_ready(self, target: "Target", *, secrets: "Secrets | None",
                   timeout_seconds: float) -> ReadyResult: ...

    def stop(self, target: "Target", *, secrets: "Secrets | None", count: int
             ) -> StopResult: ...

    def restore(self, target: "Target", *, secrets: "Secrets | None", replicas: int,
                timeout_seconds: float) -> ReadyResult: ...


class KubernetesDeployment(Model):
    """A Deployment and the label selector of its pods."""

    name: str
    label_selector: str
