"""The sandbox's endpoints, one address for the application each: the database's and the
cache's, re-pointed at whichever node is primary (what RDS and ElastiCache do with their
DNS names on a failover), through nginx's stream module."""

import signal

from chaoslib_edx.files import replace_text
from chaoslib_edx.sandbox.layout import ENDPOINT_NODES, Layout
from chaoslib_edx.sandbox.supervisor import Supervisor


def point(layout: Layout, endpoint: str, node: str) -> None:
    """Write which node ENDPOINT forwards to (nginx reads it on start or HUP)."""
    replace_text(layout.endpoint_conf(endpoint),
                 f"server 127.0.0.1:{layout.node_port(node)};  # {node}\n")


def primary(layout: Layout, endpoint: str) -> str:
    """The node ENDPOINT's configuration names now."""
    return layout.endpoint_conf(endpoint).read_text().rsplit("#", 1)[1].strip()


def repoint(layout: Layout, endpoint: str, node: str) -> None:
    """Point ENDPOINT at NODE and have nginx take it (new connections go there)."""
    point(layout, endpoint, node)
    Supervisor(layout).signal("nginx", signal.SIGHUP)


def ensure(layout: Layout) -> None:
    """Each endpoint at its home primary, unless a fault has pointed it elsewhere."""
    for endpoint, nodes in ENDPOINT_NODES.items():
        if not layout.endpoint_conf(endpoint).exists():
            point(layout, endpoint, nodes[0])
