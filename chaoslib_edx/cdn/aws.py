"""Origin loss on CloudFront: point the video origin at an unreachable host, and put the
saved origin back. The saved origin travels in the ledger, so recovery works after a crash."""

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


def _set_domain(target: Target, secrets: Secrets | None, domain: str) -> str:
    spec: AwsDistribution = target.spec
    cloudfront = aws.client("cloudfront", target, secrets)
    current = cloudfront.get_distribution_config(Id=spec.id)
    config = current["DistributionConfig"]
    _origin(config, spec.origin_id)["DomainName"] = domain
    response = cloudfront.update_distribution(Id=spec.id, IfMatch=current["ETag"],
                                              DistributionConfig=config)
    return response["Distribution"]["Status"]


def _wait_deployed(target: Target, secrets: Secrets | None, timeout_s: float = 1800) -> None:
    spec: AwsDistribution = target.spec
    cloudfront = aws.client("cloudfront", target, secrets)
    aws.wait_for_status(lambda: cloudfront.get_distribution(Id=spec.id)["Distribution"]["Status"],
                   "Deployed", f"distribution {spec.id}", timeout_s)


def snapshot(target: Target, *, secrets: Secrets | None) -> dict:
    spec: AwsDistribution = target.spec
    config = aws.client("cloudfront", target, secrets).get_distribution_config(
        Id=spec.id)["DistributionConfig"]
    return {"origin_domain_name": _origin(config, spec.origin_id)["DomainName"]}


def break_origin(target: Target, *, secrets: Secrets | None) -> OriginResult:
    _set_domain(target, secrets, UNREACHABLE)
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
    _set_domain(target, secrets, saved["origin_domain_name"])
    _wait_deployed(target, secrets)
    return {"origin": saved["origin_domain_name"], "serving": serving(target, secrets=secrets)}


def serving(target: Target, *, secrets: Secrets | None) -> bool:
    spec: AwsDistribution = target.spec
    cloudfront = aws.client("cloudfront", target, secrets)
    distribution = cloudfront.get_distribution(Id=spec.id)["Distribution"]
    origin = _origin(distribution["DistributionConfig"], spec.origin_id)
    return origin["DomainName"] != UNREACHABLE and distribution["Status"] == "Deployed"
