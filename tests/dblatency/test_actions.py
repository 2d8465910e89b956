"""Database latency on the sandbox: the shipped experiment through plain `chaos run`,
SIGKILL mid-fault then `recover`, and bad delays refused before anything acts."""

import json
import os
import signal
import subprocess
import sys
import time
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


def test_the_delay_outlives_the_paths_restart_and_up_clears_an_orphan(sandbox, tmp_path) -> None:
    """A network fault outlives the process that adds it: the db-path SIGKILLed mid-fault
    is restarted by supervisord with the delay, measured through the LMS. Once the run that
    set it is gone, `sandbox up` clears it and says whose it was."""
    from chaoslib_edx.dblatency.actions import slow_database
    from chaoslib_edx.sandbox.supervisor import Supervisor
    from tests.sandbox.helpers import login

    layout = sandbox.layout
    learner = login(layout.lb_url)

    def api_ms() -> float | None:
        began = time.monotonic()
        try:
            reply = learner.get(f"{layout.lb_url}/api/enrollment/v1/enrollment", timeout=10)
        except OSError:
            return None
        return (time.monotonic() - began) * 1000 if reply.status_code == 200 else None

    assert eventually(api_ms) < 150
    config = sandbox.configuration(tmp_path)
    slow_database("edxapp", latency_ms=300, configuration=config)  # a call of its own
    assert eventually(api_ms) >= 300
    sup = Supervisor(layout)
    killed = sup.process("db-path")["pid"]
    os.kill(killed, signal.SIGKILL)
    eventually(lambda: sup.process("db-path")["statename"] == "RUNNING"
               and sup.process("db-path")["pid"] != killed, timeout=15)
    eventually(lambda: (ms := api_ms()) is not None and ms >= 300, timeout=10)
    assert _delay(sandbox) == 300

    up = sandbox.cli("sandbox", "up")
    assert up.returncode == 0, up.stderr
    assert f"cleared a 300 ms delay on the LMS's database path, left by process " \
           f"{os.getpid()} (" in up.stdout
    assert _delay(sandbox) == 0 and eventually(api_ms) < 150
    assert run_cli("recover", "--env", str(sandbox.env_file), "--ledger",
                   config["edx_ledger"]).returncode == 0
    assert Ledger(config["edx_ledger"]).pending() == []
