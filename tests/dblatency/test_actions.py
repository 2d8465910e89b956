"""Database latency on the sandbox: the shipped experiment through plain `chaos run`,
SIGKILL mid-fault then `recover`, and bad delays refused before anything acts."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.guardrails import check_experiment_file
from chaoslib_edx.ledger import Ledger
from chaoslib_edx.sandbox import netpath
from chaoslib_edx.targets import GuardrailRefused
from tests.conftest import REPO, one_paragraph, run_cli, write_yaml
from tests.sandbox.helpers import eventually

EXPERIMENT = REPO / "experiments/database-degradation.yaml"


def _delay(sandbox) -> int:
    return netpath.control(sandbox.layout.db_path_socket, {})["latency_ms"]


def test_chaos_run_moves_api_latency_and_restores(sandbox, tmp_path: Path) -> None:
    """While the 300 ms delay is live the API's p99 is above it; after the restore the
    steady state (p99 under its 500 ms target over 10 s) holds again."""
    journal = tmp_path / "journal.json"
    env = {"EDX_ENVIRONMENT": str(sandbox.env_file), "EDX_LEDGER": str(tmp_path / "ledger"),
           "EDX_METRICS_FILE": str(tmp_path / "metrics.jsonl")}
    result = subprocess.run([sys.executable, "-m", "chaostoolkit", "--no-version-check", "run",
                             "--journal-path", str(journal), str(EXPERIMENT)],
                            cwd=REPO, capture_output=True, text=True, timeout=240,
                            env={**os.environ, **env})
    record = json.loads(journal.read_text())
    assert record["status"] == "completed" and record["deviated"] is False, \
        result.stderr[-3000:]
    runs = {r["activity"]["name"]: r for r in record["run"]}
    assert runs["slow-the-database"]["output"]["latency_ms"] == 300
    during = runs["api-latency-while-slowed"]["output"]
    assert during["total"] > 20 and during["value"] > 300, during
    after = {p["activity"]["name"]: p for p in record["steady_states"]["after"]["probes"]}
    assert after["api-latency-within-slo"]["output"] is True
    assert _delay(sandbox) == 0
    assert Ledger(tmp_path / "ledger").pending() == []


def _slow_in_a_process(config: dict) -> subprocess.Popen:
    """The action in a process of its own that lives on after it, to be SIGKILLed like
    a crashed runner."""
    code = ("import json, sys, time; from chaoslib_edx.dblatency.actions import slow_database;"
            " slow_database('edxapp', latency_ms=800, configuration=json.loads(sys.argv[1]));"
            " time.sleep(600)")
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(config)], cwd=REPO)


def test_sigkill_mid_fault_then_recover_from_elsewhere(sandbox, tmp_path: Path) -> None:
    config = sandbox.configuration(tmp_path)
    ledger = Ledger(config["edx_ledger"])
    runner = _slow_in_a_process(config)
    try:
        eventually(lambda: ledger.pending() and _delay(sandbox) == 800, timeout=30)
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    assert _delay(sandbox) == 800  # the fault outlives its runner
    (entry,) = ledger.pending()
    assert entry.rollback == "chaoslib_edx.dblatency.actions:restore_database_speed"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, "-m", "chaoslib_edx", "recover", "--env",
                             str(sandbox.env_file), "--ledger", config["edx_ledger"]],
                            cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore_database_speed" in result.stdout
    assert _delay(sandbox) == 0 and ledger.pending() == []
    assert sandbox.status()["state"] == "healthy"


def _with_arguments(tmp_path: Path, env_file: Path, **arguments: object) -> Path:
    experiment = yaml.safe_load(EXPERIMENT.read_text())
    experiment["method"][0]["provider"]["arguments"].update(arguments)
    experiment["configuration"]["edx_environment"] = str(env_file)
    return write_yaml(tmp_path / "slow.yaml", experiment)


@pytest.mark.parametrize("arguments, field", [
    ({"latency_ms": -5}, "latency_ms"),
    ({"latency_ms": 5001}, "latency_ms"),
    ({"latency_ms": 100, "jitter_ms": 150}, "jitter_ms"),
    ({"latency_ms": "300"}, "latency_ms"),
])
def test_bad_delays_are_refused_naming_file_and_field(tmp_path: Path, arguments: dict,
                                                      field: str) -> None:
    env_file = write_yaml(tmp_path / "sandbox.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": str(tmp_path / "state"), "port_base": 23000}})
    path = _with_arguments(tmp_path, env_file, **arguments)
    with pytest.raises(GuardrailRefused) as refused:
        check_experiment_file(str(path))
    assert refused.value.file == str(path)
    assert refused.value.field == \
        f"activity 'slow-the-database' provider.arguments.{field}"


@pytest.mark.integration
def test_check_exits_2_on_a_bad_delay(tmp_path: Path) -> None:
    env_file = write_yaml(tmp_path / "sandbox.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": str(tmp_path / "state"), "port_base": 23000}})
    path = _with_arguments(tmp_path, env_file, latency_ms=-1)
    result = run_cli("check", str(path))
    assert result.returncode == 2
    message = one_paragraph(result.stderr)
    assert str(path) in message and "provider.arguments.latency_ms" in message
    assert "1..5000" in message
    assert not (tmp_path / "state").exists()  # nothing was started or written
