"""nginx as the CDN edge: cached assets survive origin loss, uncached ones fail."""

import requests

from chaoslib_edx.sandbox.supervisor import Supervisor


def test_edge_serves_cached_asset_after_origin_stops(sandbox) -> None:
    layout = sandbox.layout
    # Course images: the load profiles fetch only videos, so these start uncached.
    cached = f"{layout.cdn_url}/asset/course-v1:edX+C003+2026/course_image.png"
    uncached = f"{layout.cdn_url}/asset/course-v1:edX+C004+2026/course_image.png"
    first = requests.get(cached, timeout=5)
    assert first.status_code == 200 and first.headers["X-Cache-Status"] == "MISS"
    body = first.content
    sup = Supervisor(layout)
    sup.stop("origin")
    try:
        origin = f"http://127.0.0.1:{layout.port('origin')}/health.txt"
        try:
            requests.get(origin, timeout=2)
            raise AssertionError("origin still answers after stop")
        except requests.ConnectionError:
            pass
        again = requests.get(cached, timeout=5)
        assert again.status_code == 200
        assert again.headers["X-Cache-Status"] in ("HIT", "STALE")
        assert again.content == body
        miss = requests.get(uncached, timeout=5)
        assert miss.status_code in (502, 504)
        status = sandbox.status()
        assert status["state"] == "degraded"
        assert status["programs"]["origin"]["state"] == "STOPPED"
        assert status["checks"]["cdn"]["ok"] is False
        assert status["checks"]["cdn"]["origin"] == 0
    finally:
        sup.start("origin")
    assert requests.get(uncached, timeout=5).status_code == 200
    assert sandbox.status()["state"] == "healthy"
