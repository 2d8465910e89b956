"""Origin loss on the sandbox: stop the asset origin; the nginx edge keeps its cache."""

from chaoslib.types import Secrets

from chaoslib_edx.sandbox.assets import HEALTH_FILE
from chaoslib_edx.sandbox.health import http_get
from chaoslib_edx.sandbox.supervisor import Supervisor
from chaoslib_edx.targets import Target


def snapshot(target: Target, *, secrets: Secrets | None) -> dict:
    return {}  # the origin's configuration does not change; only its process stops


def break_origin(target: Target, *, secrets: Secrets | None) -> dict:
    Supervisor(target.layout).stop("origin")
    return {"origin": "stopped"}


def restore(target: Target, *, secrets: Secrets | None, saved: dict) -> dict:
    Supervisor(target.layout).start("origin")
    return {"origin": "running", "serving": serving(target, secrets=secrets)}


def serving(target: Target, *, secrets: Secrets | None) -> bool:
    return http_get(f"http://127.0.0.1:{target.layout.port('origin')}/{HEALTH_FILE}")[0] == 200
