"""Shared fixtures: a real sandbox on free loopback ports, driven through the real CLI."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.environment import load_environment
from chaoslib_edx.ports import free_block
from chaoslib_edx.sandbox.layout import PORT_SPAN, Layout

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `edx-gameday ARGS` in its own process, as a user would."""
    return subprocess.run([sys.executable, "-m", "chaoslib_edx", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def free_port_base() -> int:
    return free_block(PORT_SPAN)


def write_env(directory: Path, port_base: int, **sandbox: object) -> Path:
    """An environment file for a sandbox with its state under DIRECTORY."""
    settings = {"state_dir": str(directory / "state"), "port_base": port_base,
                "seed": {"courses": 4, "learners": 200}, **sandbox}
    path = directory / "sandbox.yaml"
    path.write_text(yaml.safe_dump({"name": "test-sandbox", "kind": "sandbox",
                                    "driver": "sandbox", "sandbox": settings}))
    return path


@dataclass
class Sandbox:
    env_file: Path
    layout: Layout

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return run_cli(*args, "--env", str(self.env_file))

    def configuration(self, tmp_path: Path) -> dict:
        """Chaos Toolkit configuration for activities against this sandbox."""
        return {"edx_environment": str(self.env_file),
                "edx_ledger": str(tmp_path / "ledger.jsonl")}

    def status(self) -> dict:
        result = self.cli("sandbox", "status", "--json")
        return json.loads(result.stdout)


def start_sandbox(directory: Path) -> Sandbox:
    env_file = write_env(directory, free_port_base())
    sandbox = Sandbox(env_file, Layout.from_settings(load_environment(env_file).sandbox))
    result = sandbox.cli("sandbox", "up")
    if result.returncode != 0:
        sandbox.cli("sandbox", "down")
        raise AssertionError(f"sandbox up failed: {result.stderr}{result.stdout}")
    return sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    """One running sandbox for the tests that inject faults and restore them."""
    box = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield box
    box.cli("sandbox", "down")


from tests.aws import aws_env, moto_endpoint  # noqa: E402,F401  (fixtures)
