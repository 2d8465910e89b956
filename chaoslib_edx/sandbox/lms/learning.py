"""Catalog, enrollment and courseware as the learning MFE calls them, and the XBlock
handlers a unit's problems and completions post to (state kept in MariaDB, in tables
named and shaped like edx-platform's courseware_studentmodule and completion's)."""

import json
from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, request
from markupsafe import escape

from chaoslib_edx.courses import block_id, course_of
from chaoslib_edx.sandbox.lms.core import lms, unauthorized

bp = Blueprint("learning", __name__)
PROBLEM_ANSWER = "42"
# Blocks that complete on view (completion's can_mark_block_complete_on_view): not the
# scored ones (problem) nor those with custom completion (video).
NOT_ON_VIEW = frozenset({"problem", "video"})


def _not_found(what: str) -> tuple[Response, int]:
    return jsonify(detail=f"{what} not found"), 404


def _summary(course: dict) -> dict:
    return {"id": course["id"], "course_id": course["id"], "name": course["name"],
            "org": course["org"], "start": str(course["start_date"])}


@bp.get("/api/courses/v1/courses/")
def catalog() -> tuple[Response, int]:
    courses = lms().cached("catalog:v1", lambda: lms().db.query(
        "SELECT id, id AS course_id, name, org, start_date AS start FROM courses ORDER BY id"))
    return jsonify(results=courses, pagination={"count": len(courses), "num_pages": 1,
                                                "next": None, "previous": None}), 200


@bp.get("/api/courses/v1/courses/<course_key>")
def course_detail(course_key: str) -> tuple[Response, int]:
    course = lms().course(course_key)
    return (jsonify(_summary(course)), 200) if course else _not_found("course")


def _enrollment(learner: dict, course_key: str, row: dict) -> dict:
    return {"user": learner["username"], "mode": row["mode"], "is_active": bool(row["is_active"]),
            "created": str(row["created"]), "course_details": {"course_id": course_key}}


@bp.route("/api/enrollment/v1/enrollment", methods=["GET", "POST"])
def enrollments() -> tuple[Response, int]:
    learner = lms().learner()
    if learner is None:
        return unauthorized()
    db = lms().db
    if request.method == "GET":
        rows = db.query("SELECT course_id, mode, is_active, created FROM enrollments "
                        "WHERE learner_id = %s", (learner["id"],))
        return jsonify([_enrollment(learner, row["course_id"], row) for row in rows]), 200
    body = request.get_json(silent=True) or {}
    course_key = (body.get("course_details") or {}).get("course_id", "")
    if lms().course(course_key) is None:
        return jsonify(message=f"No course '{course_key}' found for enrollment"), 400
    mode = body.get("mode", "audit")
    db.query("INSERT INTO enrollments (learner_id, course_id, mode) VALUES (%s, %s, %s) "
             "ON DUPLICATE KEY UPDATE is_active = TRUE, mode = VALUES(mode)",
             (learner["id"], course_key, mode))
    return _learner_enrollment(learner, course_key)


def _learner_enrollment(learner: dict, course_key: str) -> tuple[Response, int]:
    rows = lms().db.query("SELECT mode, is_active, created FROM enrollments WHERE "
                          "learner_id = %s AND course_id = %s", (learner["id"], course_key))
    return (jsonify(_enrollment(learner, course_key, rows[0])), 200) if rows \
        else (jsonify(None), 200)  # not enrolled: the API answers null


@bp.get("/api/enrollment/v1/enrollment/<course_key>")
def enrollment(course_key: str) -> tuple[Response, int]:
    learner = lms().learner()
    return _learner_enrollment(learner, course_key) if learner else unauthorized()


@bp.get("/api/enrollment/v1/course/<course_key>")
def enrollment_course(course_key: str) -> tuple[Response, int]:
    course = lms().course(course_key)
    if course is None:
        return _not_found("course")
    return jsonify(course_id=course_key, course_modes=[{"slug": "audit", "name": "Audit"}],
                   invite_only=False), 200


def _units(structure: dict) -> Iterator[tuple[dict, dict]]:
    for chapter in structure["chapters"]:
        for sequence in chapter["sequences"]:
            for unit in sequence["units"]:
                yield sequence, unit


def _learner_course(course_key: str) -> tuple[dict | None, tuple[Response, int] | None]:
    learner = lms().learner()
    if learner is None:
        return None, unauthorized()
    course = lms().course(course_key)
    return (course, None) if course else (None, _not_found("course"))


@bp.get("/api/course_home/outline/<course_key>")
def outline(course_key: str) -> tuple[Response, int]:
    course, refused = _learner_course(course_key)
    if refused:
        return refused
    blocks = {course_key: {"id": course_key, "type": "course", "display_name": course["name"],
                           "children": [c["id"] for c in course["structure"]["chapters"]]}}
    for chapter in course["structure"]["chapters"]:
        blocks[chapter["id"]] = {"id": chapter["id"], "type": "chapter",
                                 "display_name": chapter["title"],
                                 "children": [s["id"] for s in chapter["sequences"]]}
        for sequence in chapter["sequences"]:
            blocks[sequence["id"]] = {"id": sequence["id"], "type": "sequential",
                                      "display_name": sequence["title"]}
    # Upstream's CourseBlockSerializer: the blocks only, the root is the "course" one.
    return jsonify(course_blocks={"blocks": blocks}), 200


@bp.get("/api/courseware/course/<course_key>")
def courseware_course(course_key: str) -> tuple[Response, int]:
    course, refused = _learner_course(course_key)
    if refused:
        return refused
    rows = lms().db.query("SELECT is_active FROM enrollments WHERE learner_id = %s AND "
                          "course_id = %s", (lms().learner()["id"], course_key))
    return jsonify(**_summary(course), is_enrolled=bool(rows and rows[0]["is_active"]),
                   is_staff=False), 200


def _units_of(usage_key: str, sequence: bool) -> tuple[list[dict], tuple[Response, int] | None]:
    """The signed-in learner's units of a sequence (SEQUENCE) or the unit USAGE_KEY itself,
    or the refusal: 401 anonymous, 404 unknown."""
    course, refused = _learner_course(course_of(usage_key))
    if refused:
        return [], refused
    found = [unit for seq, unit in _units(course["structure"])
             if (seq if sequence else unit)["id"] == usage_key]
    return found, None if found else _not_found("sequence" if sequence else "block")


@bp.get("/api/courseware/sequence/<usage_key>")
def sequence(usage_key: str) -> tuple[Response, int]:
    units, refused = _units_of(usage_key, sequence=True)
    if refused:
        return refused
    items = [{"id": u["id"], "type": "problem", "page_title": u["title"]} for u in units]
    return jsonify(item_id=usage_key, items=items, position=1), 200


@bp.get("/xblock/<usage_key>")
def render_unit(usage_key: str) -> Response | tuple[Response, int]:
    """A unit as the MFE's iframe loads it: its blocks' HTML, each with its usage id."""
    found, refused = _units_of(usage_key, sequence=False)
    if refused:
        return refused
    unit = found[0]
    blocks = "".join(f'<div class="xblock" data-usage-id="{escape(block)}"></div>'
                     for block in unit["blocks"])
    video = f'<video src="{escape(unit["video"])}"></video>'
    return Response(f"<!doctype html><title>{escape(unit['title'])}</title>{blocks}{video}",
                    mimetype="text/html")


@bp.post("/courses/<course_key>/xblock/<usage_key>/handler/<path:handler>")
def xblock_handler(course_key: str, usage_key: str, handler: str) -> tuple[Response, int]:
    learner = lms().learner()
    if learner is None:
        return unauthorized()
    if course_of(usage_key) != course_key or lms().course(course_key) is None:
        return _not_found("block")
    block_type = usage_key.split("+type@", 1)[1].split("+block@", 1)[0]
    if handler == "xmodule_handler/problem_check":
        return _problem_check(learner, course_key, usage_key)
    if handler == "publish_completion":
        if block_type in NOT_ON_VIEW:  # XModuleMixin.publish_completion's JsonHandlerError
            return jsonify(error="Block not configured for completion on view."), 400
        completion = float((request.get_json(silent=True) or {}).get("completion", 1.0))
        lms().db.query(
            "INSERT INTO completion_blockcompletion (user_id, context_key, block_key, "
            "block_type, completion) VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE "
            "completion = VALUES(completion), modified = CURRENT_TIMESTAMP(3)",
            (learner["id"], course_key, usage_key, block_type, completion))
        return jsonify(result="ok"), 200
    return _not_found(f"handler '{handler}'")


def _problem_check(learner: dict, course_key: str, usage_key: str) -> tuple[Response, int]:
    # capa names a problem's inputs by the block's id (opaque-keys' html_id()); other
    # names are no answer to this problem.
    answer = request.form.get(f"input_{block_id(usage_key)}_2_1")
    correct = answer == PROBLEM_ANSWER
    state = json.dumps({"student_answers": dict(request.form), "done": True})
    lms().db.query(
        "INSERT INTO courseware_studentmodule (student_id, course_id, module_state_key, "
        "module_type, state, grade, max_grade) VALUES (%s, %s, %s, 'problem', %s, %s, 1) "
        "ON DUPLICATE KEY UPDATE state = VALUES(state), grade = VALUES(grade), "
        "modified = CURRENT_TIMESTAMP(3)",
        (learner["id"], course_key, usage_key, state, float(correct)))
    return jsonify(success="correct" if correct else "incorrect", current_score=int(correct),
                   total_possible=1, progress_changed=True), 200
