"""Loopback port checks shared by the sandbox preflight, the load launcher and tests."""

import os
import random
import socket
from pathlib import Path

from chaoslib_edx.errors import UserError

DEFAULT_RANGE = (20000, 30000)
EPHEMERAL = "/proc/sys/net/ipv4/ip_local_port_range"  # where clients' own ports come from


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ports for outgoing connections (Linux's default 32768-60999)."""
    try:
        low, high = map(int, Path(EPHEMERAL).read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:PORT."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def port_range() -> tuple[int, int]:
    """Where free ports are picked: EDX_PORTS ("LOW-HIGH"), so runners sharing a host (CI
    jobs, parallel test workers) keep apart even from ports one has chosen but not yet
    bound; 20000-30000 by default."""
    text = os.environ.get("EDX_PORTS")
    if not text:
        return DEFAULT_RANGE
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 <= int(low) < int(high) <= 65535):
        raise UserError(f"EDX_PORTS is {text!r}, not a range of ports such as 20000-30000",
                        field="EDX_PORTS")
    first, last = ephemeral_range()
    if int(low) <= last and int(high) > first:
        # A port a client's connection holds as its own cannot be listened on: a server
        # given one fails at random.
        raise UserError(f"EDX_PORTS is {text!r}, which overlaps the kernel's ports for "
                        f"outgoing connections ({first}-{last}, {EPHEMERAL})",
                        field="EDX_PORTS", fix=f"Pick a range below {first}")
    return int(low), int(high)


def free_block(span: int, low: int | None = None, high: int | None = None) -> int:
    """The first port of SPAN consecutive ports with no listener. Servers configured by
    port (nginx, MariaDB, Locust's master) cannot bind 0 and report back, so we look."""
    if low is None or high is None:
        low, high = port_range()
    for _ in range(200):
        base = random.randrange(low, high - span, span)
        if not any(listening(base + i) for i in range(span)):
            return base
    raise RuntimeError(f"no {span} free consecutive ports between {low} and {high}")
