"""The asset/video origin behind the CDN edge: a static file server on 127.0.0.1.

The stdlib server is enough for static files; it is a process of its own so a fault can
stop it (supervisord program `origin`) while the edge keeps its cache.
"""

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "public, max-age=30")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the edge's access log is the record of requests."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    args = parser.parse_args()
    handler = functools.partial(_Handler, directory=args.root)
    ThreadingHTTPServer.daemon_threads = True
    # The stdlib's listen backlog of 5 drops connections from the edge under a burst of
    # cache misses (seen as 504s after the edge's 1 s connect timeout).
    ThreadingHTTPServer.request_queue_size = 256
    with ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
