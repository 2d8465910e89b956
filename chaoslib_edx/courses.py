"""Course and usage keys in Open edX syntax, and the course structure the sandbox seeds.

One place for both sides: the sandbox seeds and serves these courses, the load profiles
pick course keys from here (against staging, from their options) and find everything
below a course through the LMS's own APIs. Importable from a Locust process (no chaoslib).
"""

ORG, RUN = "edX", "2026"
# Per course, chapter and sequence: 12 weeks of 6 units, each with a video segment. Launch
# week is hot, later weeks a long tail the CDN edge has not all cached, as on a launch.
CHAPTERS, SEQUENCES, UNITS = 12, 2, 3


def course_key(index: int) -> str:
    """course-v1:edX+C001+2026 for index 1."""
    return f"course-v1:{ORG}+C{index:03d}+{RUN}"


def usage_key(course: str, block_type: str, block_id: str) -> str:
    """block-v1:edX+C001+2026+type@problem+block@<id>, the block of COURSE."""
    return f"block-v1:{course.removeprefix('course-v1:')}+type@{block_type}+block@{block_id}"


def block_id(usage: str) -> str:
    """The block's own id, the last part of its usage key: what names a problem's inputs
    (input_<block id>_2_1, from opaque-keys' html_id())."""
    return usage.rsplit("+block@", 1)[1]


def course_of(usage: str) -> str:
    """The course key a block-v1 usage key belongs to."""
    return "course-v1:" + usage.removeprefix("block-v1:").split("+type@", 1)[0]


def structure(course: str) -> dict:
    """Chapters of sequences of units; each unit holds an html block, a problem and a
    video. Every id is derived, so the same course always has the same blocks."""
    chapters = []
    for c in range(1, CHAPTERS + 1):
        sequences = []
        for s in range(1, SEQUENCES + 1):
            units = []
            for u in range(1, UNITS + 1):
                tag = f"{c:02d}{s}{u}"  # ids sort in course order, as Studio's do not
                units.append({
                    "id": usage_key(course, "vertical", f"unit{tag}"),
                    "title": f"Unit {c}.{s}.{u}",
                    "blocks": [usage_key(course, "html", f"text{tag}"),
                               usage_key(course, "problem", f"problem{tag}"),
                               usage_key(course, "video", f"video{tag}")],
                    "video": f"/video/{course}/week{c}-{(s - 1) * UNITS + u}.mp4"})
            sequences.append({"id": usage_key(course, "sequential", f"seq{c:02d}{s}"),
                              "title": f"Lesson {c}.{s}", "units": units})
        chapters.append({"id": usage_key(course, "chapter", f"chapter{c:02d}"),
                         "title": f"Week {c}", "sequences": sequences})
    return {"id": course, "chapters": chapters}


def videos(course: str) -> list[str]:
    """The CDN paths of COURSE's video segments, unit by unit."""
    return [unit["video"] for chapter in structure(course)["chapters"]
            for sequence in chapter["sequences"] for unit in sequence["units"]]
