"""CDN actions: lose the video origin behind the edge, and restore it."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.lease import fenced
from chaoslib_edx.ledger import own_entry, record_rollback, settle
from chaoslib_edx.liveness import watched
from chaoslib_edx.targets import Target, resolve

__all__ = ["break_video_origin", "restore_video_origin"]

_ROLLBACK = "chaoslib_edx.cdn.actions:restore_video_origin"


@fenced
@watched
def break_video_origin(distribution: str = "video", configuration: Configuration = None,
                       secrets: Secrets = None) -> dict:
    """Lose the video/asset origin behind the CDN: cached objects keep being served (stale
    if needed), misses fail. CloudFront: the origin is pointed at an unreachable host; the
    sandbox: the origin process stops. The saved origin is in the ledger first."""
    target = resolve("cdn", distribution, configuration)
    saved = target.drive("snapshot", secrets)
    record_rollback("break_video_origin", _ROLLBACK,
                    {"distribution": distribution, "saved": saved}, configuration)
    return target.drive("break_origin", secrets)


def live_break(target: Target, arguments: dict, result: dict,
               secrets: Secrets | None) -> bool:
    """The live check of break_video_origin (see faults.py): the origin still does not serve."""
    return not target.drive("serving", secrets)


@fenced
@watched
def restore_video_origin(distribution: str = "video", saved: dict = None,
                         configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Put the video origin back (the CloudFront origin saved when it was broken, or
    restart the sandbox's). Without `saved`, the ledger's pending entry for this
    distribution gives it; with none pending, an origin already back is left alone."""
    target = resolve("cdn", distribution, configuration)
    if saved is None:
        entry = own_entry(_ROLLBACK, configuration, distribution=distribution)
        saved = entry.arguments["saved"] if entry is not None else {}
    result = target.drive("restore", secrets, saved=saved)
    settle(_ROLLBACK, {"distribution": distribution, "saved": saved}, configuration)
    return result
