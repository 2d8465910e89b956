"""A client for the sandbox's supervisord, over its XML-RPC API on a unix socket."""

import os
import signal
import subprocess
import sys
import xmlrpc.client
from pathlib import Path
from typing import Any

import psutil
from supervisor.xmlrpc import SupervisorTransport

from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.waiting import WaitTimeout, wait_until


class Supervisor:
    """Start, stop and inspect the programs of one sandbox through supervisord."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def _proxy(self) -> Any:
        url = f"unix://{self.layout.supervisor_socket}"
        # The URL host is ignored by SupervisorTransport; it talks to the socket.
        return xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, url))

    def pid(self) -> int | None:
        """PID of supervisord if its pidfile names a live supervisord, else None."""
        try:
            pid = int(self.layout.supervisor_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"supervisord" in cmdline else None

    def is_running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            return self._proxy().supervisor.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault):
            return False

    def start_daemon(self) -> None:
        """Start supervisord; it daemonizes and starts every autostart program."""
        subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c",
             str(self.layout.conf / "supervisord.conf")],
            check=True, capture_output=True, cwd=self.layout.root)
        wait_until(self.is_running, timeout=15, what="supervisord running",
                   hint=f"see {self.layout.logs}/supervisord.log")

    def processes(self) -> list[dict]:
        """Every program with its state and pid (supervisord's getAllProcessInfo)."""
        return self._proxy().supervisor.getAllProcessInfo()

    def process(self, name: str) -> dict:
        return self._proxy().supervisor.getProcessInfo(self._qualified(name))

    def start(self, name: str, timeout: float = 30) -> None:
        """Start NAME and return once supervisord counts it RUNNING (past its startsecs),
        also when someone else had already begun starting it."""
        try:
            self._proxy().supervisor.startProcess(self._qualified(name), True)
            return
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise
        wait_until(lambda: self.process(name)["statename"], timeout=timeout,
                   until=lambda state: state not in ("STARTING", "BACKOFF"),
                   what=f"{name} started", hint=f"see {self.layout.logs}")

    def stop(self, name: str) -> None:
        try:
            self._proxy().supervisor.stopProcess(self._qualified(name), True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise

    def signal(self, name: str, sig: signal.Signals) -> None:
        self._proxy().supervisor.signalProcess(self._qualified(name), sig.name)

    def shutdown(self, timeout: float = 60) -> None:
        """Stop every program, then supervisord itself; wait until its pid is gone."""
        pid = self.pid()
        try:
            self._proxy().supervisor.shutdown()
        except (OSError, xmlrpc.client.Fault):
            if pid:
                os.kill(pid, signal.SIGTERM)
        if pid:
            _wait_gone(pid, timeout)

    def _qualified(self, name: str) -> str:
        return f"lms:{name}" if name.startswith("lms-") else name


def _wait_gone(pid: int, timeout: float) -> None:
    try:
        wait_until(lambda: not psutil.pid_exists(pid), timeout=timeout, what=f"pid {pid} gone",
                   interval=0.05)
    except WaitTimeout:
        os.kill(pid, signal.SIGKILL)

