"""Hosts for tests that cross a network: one network namespace per host, each with one
veth into a bridge in a hub namespace, on a private subnet that exists only inside
them (the root namespace never gets an address of it). Removed, with whatever still
runs in them, even when the test fails."""

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SUBNET = "10.213.77"  # /24, only inside the namespaces


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class Host:
    namespace: str
    address: str

    def command(self, *argv: str) -> list[str]:
        """ARGV run inside this host (`ip netns exec` execs it: the pid is ARGV's)."""
        return ["ip", "netns", "exec", self.namespace, *argv]


def _remove(namespace: str) -> None:
    pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True,
                          text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


@contextmanager
def network(names: dict[str, int]) -> Iterator[dict[str, Host]]:
    """Hosts NAME -> SUBNET.<octet> on one bridge; yields them by name."""
    prefix = f"edxt{os.getpid()}"
    hub = f"{prefix}-hub"
    created = [hub]
    try:
        _ip("netns", "add", hub)
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        hosts = {}
        for index, (name, octet) in enumerate(names.items()):
            namespace = f"{prefix}-{name}"
            _ip("netns", "add", namespace)
            created.append(namespace)
            port = f"p{index}"
            _ip("link", "add", "eth0", "netns", namespace, "type", "veth",
                "peer", "name", port, "netns", hub)
            _ip("-n", hub, "link", "set", port, "master", "br0", "up")
            _ip("-n", namespace, "addr", "add", f"{SUBNET}.{octet}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            hosts[name] = Host(namespace, f"{SUBNET}.{octet}")
        yield hosts
    finally:
        for namespace in reversed(created):
            _remove(namespace)
