"""What every CDN driver provides, and what a cloud inventory says of a distribution."""

from typing import TYPE_CHECKING, Protocol, TypedDict

from chaoslib_edx.model import Model

if TYPE_CHECKING:
    from chaoslib.types import Secrets

    from chaoslib_edx.targets import Target


class OriginResult(TypedDict):
    origin: str     # where the edge now fetches misses from
    serving: bool   # whether that origin serves


class CdnDriver(Protocol):
    def snapshot(self, target: "Target", *, secrets: "Secrets | None") -> dict: ...

    def break_origin(self, target: "Target", *, secrets: "Secrets | None") -> OriginResult: ...

    def restore(self, target: "Target", *, secrets: "Secrets | None",
                saved: dict) -> OriginResult: ...

    def serving(self, target: "Target", *, secrets: "Secrets | None") -> bool: ...


class AwsDistribution(Model):
    """A CloudFront distribution and the origin whose loss is the fault."""

    id: str
    origin_id: str
