"""supervisord as the ReplicaSet: a SIGKILLed LMS replica comes back, traffic keeps flowing."""

import os
import signal

import psutil

from chaoslib_edx.sandbox.supervisor import Supervisor
from tests.sandbox.helpers import Traffic, eventually


def _listener_pid(port: int) -> int | None:
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN":
            return conn.pid
    return None


def test_killed_replica_is_restarted_while_lb_requests_succeed(sandbox) -> None:
    layout = sandbox.layout
    sup = Supervisor(layout)
    old_pid = sup.process("lms-2")["pid"]
    with Traffic(f"{layout.lb_url}/api/courses/v1/courses/", max_seconds=20) as traffic:
        eventually(lambda: sum(traffic.codes.values()) > 50)
        os.kill(old_pid, signal.SIGKILL)
        info = eventually(lambda: (i := sup.process("lms-2"))["statename"] == "RUNNING"
                          and i["pid"] != old_pid and i, timeout=20)
        eventually(lambda: _listener_pid(layout.lms_ports["lms-2"]) == info["pid"])
        before_end = sum(traffic.codes.values())
        eventually(lambda: sum(traffic.codes.values()) > before_end + 50)
    assert not psutil.pid_exists(old_pid)
    assert set(traffic.codes) == {200}, (traffic.codes, traffic.errors)
    status = sandbox.status()
    lms2 = status["programs"]["lms-2"]
    assert (lms2["state"], lms2["pid"]) == ("RUNNING", info["pid"])
    assert status["state"] == "healthy"
