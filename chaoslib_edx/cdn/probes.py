"""CDN probes: is the video origin serving."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.targets import resolve

__all__ = ["video_origin_serving"]


def video_origin_serving(distribution: str = "video", configuration: Configuration = None,
                         secrets: Secrets = None) -> bool:
    """True when the origin behind the CDN serves (CloudFront: the real origin, Deployed)."""
    return resolve("cdn", distribution, configuration).drive("serving", secrets)
