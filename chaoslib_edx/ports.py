"""Loopback port checks shared by the sandbox preflight, the load launcher and tests."""

import random
import socket


def listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:PORT."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_block(span: int, low: int = 20000, high: int = 30000) -> int:
    """The first port of SPAN consecutive ports with no listener. Servers configured by
    port (nginx, MariaDB, Locust's master) cannot bind 0 and report back, so we look."""
    for _ in range(200):
        base = random.randrange(low, high - span, span)
        if not any(listening(base + i) for i in range(span)):
            return base
    raise RuntimeError(f"no {span} free consecutive ports between {low} and {high}")
