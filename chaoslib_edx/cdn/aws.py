"""Origin loss on CloudFront: point the video origin at an unreachable host, and put the
saved origin back. The saved origin travels in the ledger, so recovery works after a crash.

CloudFront refuses an S3 origin (S3OriginConfig, perhaps an origin access control) whose
domain is not an S3 bucket's, so the broken origin is a custom one: the whole origin is
saved, and put back as it was."""

from collections.abc import Callable

from chaoslib.types import Secrets

from chaoslib_edx import aws
from chaoslib_edx.cdn.contract import AwsDistribution, OriginResult
from chaoslib_edx.targets import Target

UNREACHABLE = "origin-loss.invalid"  # RFC 6761: never resolves


def _origin(config: dict, origin_id: str) -> dict:
    for origin in config["Origins"]["Items"]:
        if origin["Id"] == origin_id:
            return origin
    raise RuntimeError(f"the distribution has no origin '{origin_id}'")


def _set_origin(target: Target, secrets: Secrets | None, change: Callable[[dict], dict]) -> str:
    """Replace the video origin with CHANGE(origin) in one UpdateDistribution."""
    spec: AwsDistribution = target.spec
    cloudfront = aws.client("cloudfront", target, secrets)
    current = cloudfront.get_distribution_config(Id=spec.id)
    config = current["DistributionConfig"]
    items = config["Origins"]["Items"]
    index = items.index(_origin(config, spec.origin_id))
    items[index] = change(items[index])
    response = cloudfront.update_distribution(Id=spec.id, IfMatch=current["ETag"],
                                              DistributionConfig=config)
    return response["Distribution"]["Status"]


def _unreachable(origin: dict) -> dict:
    """ORIGIN as a custom origin on a host that never resolves (same id and settings)."""
    kept = {k: v for k, v in origin.items()
            if k not in ("S3OriginConfig", "CustomOriginConfig", "OriginAccessControlId")}
    return {**kept, "DomainName": UNREACHABLE, "OriginAccessControlId": "",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                   "OriginProtocolPolicy": "https-only"}}


def _wait_deployed(target: Target, secrets: Secrets | None, timeout_s: float = 1800) -> None:
    spec: AwsDistribution = target.spec
    cloudfront = aws.client("cloudfront", target, secrets)
    aws.wait_for_status(lambda: cloudfront.get_distribution(Id=spec.id)["Distribution"]["Status"],
                   "Deployed", f"distribution {spec.id}", timeout_s)


def snapshot(target: Target, *, secrets: Secrets | None) -> dict:
    spec: AwsDistribution = target.spec
    config = aws.client("cloudfront", target, secrets).get_distribution_config(
        Id=spec.id)["DistributionConfig"]
    origin = _origin(config, spec.origin_id)
    return {"origin_domain_name": origin["DomainName"], "origin": origin}


def break_origin(target: Target, *, secrets: Secrets | None) -> OriginResult:
    _set_origin(target, secrets, _unreachable)
    _wait_deployed(target, secrets)
    return {"origin": UNREACHABLE, "serving": serving(target, secrets=secrets)}


def restore(target: Target, *, secrets: Secrets | None, saved: dict) -> OriginResult:
    if not saved:  # nothing pending: restored already, unless the origin is still broken
        spec: AwsDistribution = target.spec
        config = aws.client("cloudfront", target, secrets).get_distribution_config(
            Id=spec.id)["DistributionConfig"]
        current = _origin(config, spec.origin_id)["DomainName"]
        if current == UNREACHABLE:
            raise RuntimeError(f"distribution {spec.id}: origin '{spec.origin_id}' still points "
                               f"at {UNREACHABLE} and the ledger holds no saved origin; set "
                               f"its domain back by hand (the CloudFront console or API)")
        return {"origin": current, "serving": serving(target, secrets=secrets)}
    # The whole origin, as saved; a ledger from before whole origins were saved has the
    # domain only (and the origin it broke was then left an S3 origin).
    _set_origin(target, secrets, lambda origin: saved.get("origin") or
                {**origin, "DomainName": saved["origin_domain_name"]})
    _wait_deployed(target, secrets)
    return {"origin": saved["origin_domain_name"], "serving": serving(target, secrets=secrets)}


def serving(target: Target, *, secrets: Secrets | None) -> bool:
    spec: AwsDistribution = target.spec
    cloudfront = aws.client("cloudfront", target, secrets)
    distribution = cloudfront.get_distribution(Id=spec.id)["Distribution"]
    origin = _origin(distribution["DistributionConfig"], spec.origin_id)
    return origin["DomainName"] != UNREACHABLE and distribution["Status"] == "Deployed"
