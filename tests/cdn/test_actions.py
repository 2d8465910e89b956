"""Origin loss on the real sandbox: cached assets served, misses fail; restore."""

import requests

from chaoslib_edx.cdn.actions import break_video_origin, restore_video_origin
from chaoslib_edx.cdn.probes import video_origin_serving
from chaoslib_edx.ledger import Ledger


def test_origin_loss_then_restore(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    cdn = sandbox.layout.cdn_url
    cached = f"{cdn}/video/course-v1:edX+C002+2026/week4-3.mp4"
    assert requests.get(cached, timeout=5).status_code == 200
    try:
        break_video_origin("video", configuration=config)
        assert video_origin_serving("video", configuration=config) is False
        assert requests.get(cached, timeout=5).status_code == 200
        # An object the edge never fetched (its cache key is the URI): a miss fails.
        never = requests.get(f"{cdn}/video/never-fetched.mp4", timeout=5)
        assert never.status_code in (502, 504)
        (entry,) = Ledger(config["edx_ledger"]).pending()
        assert entry.arguments == {"distribution": "video", "saved": {}}
    finally:
        restore_video_origin("video", configuration=config)
    assert video_origin_serving("video", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []
