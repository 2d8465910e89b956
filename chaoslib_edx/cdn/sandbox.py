"""Origin loss on the sandbox: stop the asset origin; the nginx edge keeps its cache."""

from chaoslib.types import Secrets

from chaoslib_edx.cdn.contract import OriginResult
from chaoslib_edx.sandbox.assets import HEALTH_FILE
from chaoslib_edx.sandbox.clients import http_get
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import Target


def snapshot(target: Target, *, secrets: Secrets | None) -> dict:
    return {}  # the origin's configuration does not change; only its process stops


def _origin_url(target: Target) -> str:
    return f"http://127.0.0.1:{Layout.of(target).port('origin')}"


def break_origin(target: Target, *, secrets: Secrets | None) -> OriginResult:
    Supervisor(Layout.of(target)).stop("origin")
    return {"origin": _origin_url(target), "serving": serving(target, secrets=secrets)}


def restore(target: Target, *, secrets: Secrets | None, saved: dict) -> OriginResult:
    Supervisor(Layout.of(target)).start("origin")
    return {"origin": _origin_url(target), "serving": serving(target, secrets=secrets)}


def serving(target: Target, *, secrets: Secrets | None) -> bool:
    return http_get(f"{_origin_url(target)}/{HEALTH_FILE}")[0] == 200
