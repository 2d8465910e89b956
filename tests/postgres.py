"""A real PostgreSQL server for the history tests: Debian's binaries, a cluster in a
temporary directory, started as the postgres user (initdb and postgres refuse root) on a
free loopback port, password authentication on; stopped and removed after the session."""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from chaoslib_edx.ports import free_block
from tests.sandbox.helpers import eventually

PASSWORD_ENV = "EDX_TEST_HISTORY_PASSWORD"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, "Debian's postgresql is needed (scripts/install-servers.sh)"
    return found[-1]


def _as_postgres(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                          capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def postgres():
    """The URL of a fresh database (no password in it) and the password's variable."""
    root = Path(tempfile.mkdtemp(prefix="edx-history-pg-"))  # not pytest's: root-only
    shutil.chown(root, "postgres", "postgres")
    password = "history-" + os.urandom(6).hex()
    (root / "pw").write_text(password)
    shutil.chown(root / "pw", "postgres", "postgres")
    _as_postgres(_bin("initdb"), "-D", str(root / "data"), "-U", "edx", "-A", "scram-sha-256",
                 f"--pwfile={root / 'pw'}", "--no-sync")
    port = free_block(1)
    server = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", _bin("postgres"), "-D", str(root / "data"),
         "-p", str(port), "-h", "127.0.0.1", "-k", str(root), "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=(root / "log").open("w"))
    try:
        eventually(lambda: subprocess.run(
            [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True).returncode == 0, timeout=30, interval=0.2)
        os.environ[PASSWORD_ENV] = password
        yield f"postgresql+psycopg://edx@127.0.0.1:{port}/postgres", PASSWORD_ENV
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
