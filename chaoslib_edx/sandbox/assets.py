"""The origin's files: video segments and course images, made once per state dir."""

import os

from chaoslib_edx.sandbox.database import course_id
from chaoslib_edx.sandbox.layout import Layout

SEGMENT_BYTES = 32 * 1024
# Weeks x parts per course: launch week is hot, the later weeks a long tail the CDN edge
# has not all cached, as on a real launch (loadprofiles/course_launch.py uses the same).
WEEKS, PARTS = 12, 6
HEALTH_FILE = "health.txt"


def video_paths(layout: Layout) -> list[str]:
    """URL paths of every video segment, as the courseware outline lists them."""
    return [f"/video/{course_id(c)}/week{w}-{v}.mp4"
            for c in range(1, layout.settings.seed.courses + 1)
            for w in range(1, WEEKS + 1) for v in range(1, PARTS + 1)]


def ensure(layout: Layout) -> None:
    (layout.assets / HEALTH_FILE).write_text("ok\n")
    for path in video_paths(layout):
        target = layout.assets / path.lstrip("/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(os.urandom(SEGMENT_BYTES))
    for c in range(1, layout.settings.seed.courses + 1):
        image = layout.assets / "asset" / course_id(c) / "course_image.png"
        if not image.exists():
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
