"""A minimal LMS on Django itself, the judge of what the load profile sends: Django's own
SessionMiddleware, CsrfViewMiddleware, AuthenticationMiddleware and
django.contrib.auth.login() (which rotates the CSRF token), behind edx-platform's URL
shapes and view signatures. No path is CSRF-exempt, as in edx-platform (track.views
included). What each view answers is edx-platform's, by file:
- the CSRF token: edx-drf-extensions' CsrfTokenView ({"csrfToken": get_token()});
- the login: user_authn's LoginSessionView (form fields, JSON success/error shape);
- the outline: course_home_api's CourseBlockSerializer ({"blocks": {...}}, no root);
- the handlers: XModuleMixin.publish_completion (400 for scored and video blocks) and
  capa's input names (input_<block id>_2_1);
- /event: track.views.user_track ("success").

Run as a server: python -m tests.load.django_lms PORT DB_PATH USERNAME:PASSWORD...
Its courses are any course-v1 key, with the structure chaoslib_edx.courses derives.
GET /_judged answers what it saw (logins, by whom, enrollments, statuses) for the test.
"""

import json
import re
import sys
import threading
from collections import Counter

import django
from django.conf import settings

settings.configure(
    DEBUG=False, ALLOWED_HOSTS=["127.0.0.1"], SECRET_KEY="conformance-test-" + "x" * 40,
    ROOT_URLCONF=__name__, USE_TZ=True,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                    "django.contrib.sessions"],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": sys.argv[2] if len(sys.argv) > 2 else ":memory:",
                           "OPTIONS": {"timeout": 30}}},
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # fast: a test's
    LOGGING_CONFIG=None,
)
django.setup()

from django.contrib.auth import authenticate, login  # noqa: E402  (after setup)
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import re_path  # noqa: E402
from django.utils.html import escape  # noqa: E402

from chaoslib_edx import courses  # noqa: E402

# settings.COURSE_KEY_PATTERN and USAGE_KEY_PATTERN of lms/envs/common.py (new-style keys).
COURSE = r"(?P<course_key>course-v1:[^/+]+\+[^/+]+\+[^/?]+)"
USAGE = r"(?P<usage_key>[^/]+)"
NOT_ON_VIEW = {"problem", "video"}  # scored, or custom completion
ANSWER = "42"

seen: Counter = Counter()  # "<name> <status>" and "logins"
_lock = threading.Lock()
_enrolled: dict[str, set[str]] = {}


def _count(key: str) -> None:
    with _lock:
        seen[key] += 1


def _unauthorized() -> JsonResponse:
    return JsonResponse({"detail": "Authentication credentials were not provided."},
                        status=401)


def csrf_token(request):
    return JsonResponse({"csrfToken": get_token(request)})


def login_session(request, version):
    field = "email" if version == "v1" else "email_or_username"
    user = authenticate(request, username=request.POST.get(field, ""),
                        password=request.POST.get("password", ""))
    if user is None:
        return JsonResponse({"success": False, "value": "Email or password is incorrect.",
                             "error_code": "incorrect-email-or-password"}, status=400)
    login(request, user)  # rotates the CSRF token, as every Django login does
    _count("logins")
    _count(f"login {user.username}")
    return JsonResponse({"success": True, "redirect_url": "/dashboard"})


def enrollments(request):
    if not request.user.is_authenticated:
        return _unauthorized()
    mine = _enrolled.setdefault(request.user.username, set())
    if request.method == "POST":
        course = json.loads(request.body or b"{}").get("course_details", {}).get("course_id")
        if not re.fullmatch(COURSE, str(course)):
            return JsonResponse({"message": f"No course '{course}' found"}, status=400)
        mine.add(course)
        _count(f"enrolled {course}")
        return JsonResponse({"user": request.user.username, "is_active": True, "mode": "audit",
                             "course_details": {"course_id": course}})
    return JsonResponse([{"course_details": {"course_id": c}} for c in sorted(mine)],
                        safe=False)


def enrollment(request, course_key):
    if not request.user.is_authenticated:
        return _unauthorized()
    enrolled = course_key in _enrolled.get(request.user.username, set())
    return JsonResponse({"course_details": {"course_id": course_key}} if enrolled else None,
                        safe=False)


def enrollment_course(request, course_key):
    return JsonResponse({"course_id": course_key, "course_modes": [{"slug": "audit"}]})


def outline(request, course_key):
    if not request.user.is_authenticated:
        return _unauthorized()
    structure = courses.structure(course_key)
    blocks = {course_key: {"id": course_key, "type": "course", "display_name": course_key,
                           "children": [c["id"] for c in structure["chapters"]]}}
    for chapter in structure["chapters"]:
        blocks[chapter["id"]] = {"id": chapter["id"], "type": "chapter",
                                 "children": [s["id"] for s in chapter["sequences"]]}
        for sequence in chapter["sequences"]:
            blocks[sequence["id"]] = {"id": sequence["id"], "type": "sequential"}
    return JsonResponse({"course_blocks": {"blocks": blocks}})


def courseware_course(request, course_key):
    if not request.user.is_authenticated:
        return _unauthorized()
    return JsonResponse({"id": course_key, "is_enrolled": True})


def _units(course_key: str):
    for chapter in courses.structure(course_key)["chapters"]:
        for sequence in chapter["sequences"]:
            for unit in sequence["units"]:
                yield sequence["id"], unit


def sequence(request, usage_key):
    if not request.user.is_authenticated:
        return _unauthorized()
    items = [{"id": unit["id"], "type": "problem"} for seq, unit in
             _units(courses.course_of(usage_key)) if seq == usage_key]
    return JsonResponse({"item_id": usage_key, "items": items})


def render_xblock(request, usage_key):
    unit = next(unit for _seq, unit in _units(courses.course_of(usage_key))
                if unit["id"] == usage_key)
    blocks = "".join(f'<div class="xblock" data-usage-id="{escape(b)}"></div>'
                     for b in unit["blocks"])
    return HttpResponse(f"<!doctype html>{blocks}<video src=\"{escape(unit['video'])}\">"
                        "</video>")


def xblock_handler(request, course_key, usage_key, handler):
    if not request.user.is_authenticated:
        return _unauthorized()
    block_type = usage_key.split("+type@", 1)[1].split("+block@", 1)[0]
    if handler == "publish_completion":
        if block_type in NOT_ON_VIEW:
            return JsonResponse({"error": "Block not configured for completion on view."},
                                status=400)
        return JsonResponse({"result": "ok"})
    if handler == "xmodule_handler/problem_check":
        answer = request.POST.get(f"input_{usage_key.rsplit('+block@', 1)[1]}_2_1")
        _count("graded" if answer is not None else "ungraded")
        return JsonResponse({"success": "correct" if answer == ANSWER else "incorrect"})
    return JsonResponse({"detail": "no such handler"}, status=404)


def event(request):
    return HttpResponse("success", content_type="text/plain")


def video(request, path):
    return HttpResponse(b"\0" * 1024, content_type="video/mp4")


def judged(request):
    with _lock:
        return JsonResponse(dict(seen))


urlpatterns = [
    re_path(r"^csrf/api/v1/token$", csrf_token),
    re_path(r"^(?:api/user|user_api)/(?P<version>v1|v2)/account/login_session/$",
            login_session),
    re_path(r"^api/enrollment/v1/enrollment$", enrollments),
    re_path(rf"^api/enrollment/v1/enrollment/{COURSE}$", enrollment),
    re_path(rf"^api/enrollment/v1/course/{COURSE}$", enrollment_course),
    re_path(rf"^api/course_home/outline/{COURSE}$", outline),
    re_path(rf"^api/courseware/course/{COURSE}$", courseware_course),
    re_path(rf"^api/courseware/sequence/{USAGE}$", sequence),
    re_path(rf"^xblock/{USAGE}$", render_xblock),
    re_path(rf"^courses/{COURSE}/xblock/{USAGE}/handler/(?P<handler>.+)$", xblock_handler),
    re_path(r"^event$", event),
    re_path(r"^video/(?P<path>.+)$", video),
    re_path(r"^_judged$", judged),
]


class _Counted:
    """The WSGI app, counting each answer by its path's first part and status."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        def counted(status, headers, exc_info=None):
            route = environ["PATH_INFO"].strip("/").split("/")[0]
            if route != "_judged":
                _count(f"{environ['REQUEST_METHOD']} /{route} {status.split()[0]}")
            return start_response(status, headers, exc_info)
        return self.app(environ, counted)


def main() -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    for pair in sys.argv[3:]:
        username, password = pair.split(":", 1)
        User.objects.create_user(username, f"{username}@example.org", password)
    server = ThreadedWSGIServer(("127.0.0.1", int(sys.argv[1])), WSGIRequestHandler)
    server.set_app(_Counted(get_wsgi_application()))
    print("serving", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
