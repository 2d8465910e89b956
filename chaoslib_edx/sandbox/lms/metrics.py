"""The replica's own Prometheus metrics (/metrics): requests by route class and status,
and their latency, with the official client library.

A WSGI wrapper rather than Flask hooks: it also counts the 500s of unhandled errors,
which Flask's after_request never sees.
"""

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app

from chaoslib_edx.routes import LATENCY_BUCKETS_S, route_class

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def instrument(app: WsgiApp) -> WsgiApp:
    """APP, serving /metrics itself and counting every other request."""
    registry = CollectorRegistry()
    requests = Counter("edx_http_requests", "Requests answered, by route class and status",
                       ["route_class", "status"], registry=registry)
    latency = Histogram("edx_http_request_duration_seconds",
                        "Time to the response's headers, by route class", ["route_class"],
                        buckets=LATENCY_BUCKETS_S, registry=registry)
    exposition = make_wsgi_app(registry)

    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return exposition(environ, start_response)
        began = time.perf_counter()
        cls = route_class(path)

        def counting_start(status: str, headers: list, exc_info: object = None) -> Callable:
            requests.labels(cls, status.split(" ", 1)[0]).inc()
            latency.labels(cls).observe(time.perf_counter() - began)
            return start_response(status, headers, exc_info)

        return app(environ, counting_start)

    return wrapped
