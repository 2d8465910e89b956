"""The origin's files: video segments and course images, made once per state dir."""

import os

from chaoslib_edx.courses import course_key, videos
from chaoslib_edx.sandbox.layout import Layout

SEGMENT_BYTES = 32 * 1024
HEALTH_FILE = "health.txt"


def video_paths(layout: Layout) -> list[str]:
    """URL paths of every video segment of the seeded courses (one per unit)."""
    return [path for c in range(1, layout.settings.seed.courses + 1)
            for path in videos(course_key(c))]


def ensure(layout: Layout) -> None:
    (layout.assets / HEALTH_FILE).write_text("ok\n")
    for path in video_paths(layout):
        target = layout.assets / path.lstrip("/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(os.urandom(SEGMENT_BYTES))
    for c in range(1, layout.settings.seed.courses + 1):
        image = layout.assets / "asset" / course_key(c) / "course_image.png"
        if not image.exists():
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
