"""What every database-latency driver provides, and what a cloud inventory says of one."""

from typing import TYPE_CHECKING, Protocol, TypedDict

from pydantic import Field

from chaoslib_edx.model import Model

if TYPE_CHECKING:
    from chaoslib.types import Secrets

    from chaoslib_edx.targets import Target

# Past 5 s the LMS's own database timeouts fire: a larger delay is an outage, which the
# failover fault already drills. Jitter is at most the latency (delays never go negative).
MAX_LATENCY_MS = 5000


class SlowResult(TypedDict):
    latency_ms: int                # what every query now waits, on average
    jitter_ms: int
    experiment_id: str | None      # the AWS FIS experiment injecting it (None: sandbox)
    status: str                    # "slowed" | the FIS experiment's state


class SpeedResult(TypedDict):
    latency_ms: int                # what the path adds now: 0 once restored
    stopped: list[str]             # FIS experiments stopped ([] on the sandbox)
    status: str


class LatencyDriver(Protocol):
    def check(self, target: "Target", *, secrets: "Secrets | None", latency_ms: int,
              jitter_ms: int) -> None:
        """GuardrailRefused (without a file) when the platform cannot add exactly this."""

    def slow(self, target: "Target", *, secrets: "Secrets | None", latency_ms: int,
             jitter_ms: int, run: str) -> SlowResult: ...

    def restore(self, target: "Target", *, secrets: "Secrets | None",
                run: str | None) -> SpeedResult: ...

    def added_latency(self, target: "Target", *, secrets: "Secrets | None") -> int: ...


class AwsDatabaseLatency(Model):
    """An AWS FIS experiment template whose action is aws:eks:pod-network-latency on the
    LMS pods (towards the database), and the role the driver assumes to run it."""

    template_id: str = Field(pattern=r"^\S{1,64}$")  # FIS API: EXT... on AWS
    role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
