"""What every zone driver provides, and what a cloud inventory says of a zone."""

from typing import TYPE_CHECKING, Protocol, TypedDict

from pydantic import Field

from chaoslib_edx.model import Model

if TYPE_CHECKING:
    from chaoslib.types import Secrets

    from chaoslib_edx.targets import Target

# A zone dark for less is a blip the LB's own retries hide; for more, a game day's
# rollback bound and the platform's budgets are no longer a drill's.
MIN_DURATION_S, MAX_DURATION_S = 10, 3600


class OutageResult(TypedDict):
    zone: str
    dark: list[str]                    # what went dark (programs; the FIS template's actions)
    experiment_id: str | None          # the AWS FIS experiment (None: sandbox)
    # What the report shows of it: capacity_left, database_failover_s and cache_failover_s
    # (until the other zone's node took over; absent where its primary was elsewhere or
    # the platform fails over by itself).
    findings: dict
    status: str


class ZoneRestoreResult(TypedDict):
    zone: str
    resumed: list[str]                 # what came back (programs; FIS experiments stopped)
    database_primary: str | None       # after the failback (None: the platform keeps its own)
    cache_primary: str | None
    findings: dict                     # what the outage showed (the LB's view of it: lb_*)
    status: str


class ZoneDriver(Protocol):
    def check(self, target: "Target", *, secrets: "Secrets | None",
              duration_seconds: int) -> None:
        """GuardrailRefused (without a file) when the platform cannot darken exactly this."""

    def outage(self, target: "Target", *, secrets: "Secrets | None", duration_seconds: int,
               run: str) -> OutageResult: ...

    def restore(self, target: "Target", *, secrets: "Secrets | None", run: str | None,
                since: float | None) -> ZoneRestoreResult: ...

    def dark(self, target: "Target", *, secrets: "Secrets | None") -> bool | None:
        """Whether the zone is still dark (None: this platform cannot show it)."""

    def healthy(self, target: "Target", *, secrets: "Secrets | None") -> bool: ...

    def write(self, target: "Target", *, secrets: "Secrets | None", key: int,
              token: str) -> bool | None:
        """Commit TOKEN under KEY through the application's database endpoint (None: the
        runner cannot reach the database on this platform)."""

    def read(self, target: "Target", *, secrets: "Secrets | None",
             keys: list[int]) -> dict[int, str] | None:
        """The tokens committed under KEYS (None: not readable from here)."""


class AwsZone(Model):
    """An availability zone, and the AWS FIS template that darkens it (the AZ power
    interruption scenario: its instances stopped, database and cache failed over, its
    subnets cut), run under the role the driver assumes."""

    availability_zone: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$",
                                   description="e.g. us-east-1a")
    template_id: str = Field(pattern=r"^\S{1,64}$")  # FIS API: EXT... on AWS
    role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
