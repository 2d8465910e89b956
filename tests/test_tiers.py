"""The unit tier's guard (conftest's audit hook): in a unit test a server or a Python
process is refused, so the tier stays fast and server-free; short commands stay allowed."""

import socket
import subprocess
import sys

import pytest


def test_a_unit_test_cannot_serve() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="unit tier"):
        sock.bind(("127.0.0.1", 0))


def test_a_unit_test_cannot_start_python() -> None:
    with pytest.raises(AssertionError, match="mark it @pytest.mark.integration"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_a_unit_test_may_run_a_short_command() -> None:
    assert subprocess.run(["uname"], capture_output=True, check=True).returncode == 0


@pytest.mark.integration
def test_other_tiers_may_serve() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        assert sock.getsockname()[1] > 0
