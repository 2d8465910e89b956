"""`edx-gameday check`: each refusal is exit 2, names the file and field, changes nothing."""

from pathlib import Path

import pytest
import yaml

from chaoslib_edx.guardrails import check_experiment_file
from chaoslib_edx.targets import GuardrailRefused
from tests.conftest import REPO, one_paragraph, program_pids, run_cli, write_yaml
from tests.test_targets import PRODUCTION


def _experiment(tmp_path: Path, module: str, func: str, arguments: dict) -> str:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump({
        "version": "1.0.0", "title": "t", "description": "d",
        "method": [{"type": "action", "name": "the-fault",
                    "provider": {"type": "python", "module": module, "func": func,
                                 "arguments": arguments}}]}))
    return str(path)


@pytest.mark.parametrize("module, func, arguments, field", [
    ("chaoslib_edx.pods.actions", "kill_lms_replicas", {"share": 0.5},
     "guardrails.max_replica_share"),
    ("chaoslib_edx.pods.actions", "kill_lms_replicas", {"count": 3},
     "guardrails.max_replica_share"),
    ("chaoslib_edx.cache.actions", "evict_cache", {"cache": "reporting"}, "sandbox"),
])
def test_refused_on_the_sandbox(sandbox, tmp_path, module, func, arguments, field) -> None:
    before = program_pids(sandbox.layout)
    result = run_cli("check", _experiment(tmp_path, module, func, arguments),
                     "--env", str(sandbox.env_file))
    assert result.returncode == 2, result.stdout + result.stderr
    message = one_paragraph(result.stderr)  # the paragraph is wrapped for the terminal
    assert str(sandbox.env_file) in message and field in message
    assert program_pids(sandbox.layout) == before


@pytest.mark.integration
def test_production_needs_confirmation(tmp_path) -> None:
    env = tmp_path / "prod.yaml"
    env.write_text(yaml.safe_dump(PRODUCTION))
    experiment = _experiment(tmp_path, "chaoslib_edx.rds.actions", "failover_database", {})
    refused = run_cli("check", experiment, "--env", str(env))
    assert refused.returncode == 2 and "field 'kind'" in one_paragraph(refused.stderr)
    confirmed = run_cli("check", experiment, "--env", str(env), "--confirm-production", "prod-eu")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "database 'edxapp' via aws" in confirmed.stdout


@pytest.mark.integration
@pytest.mark.parametrize("path", sorted((REPO / "experiments").glob("*.yaml")),
                         ids=lambda path: path.stem)
def test_shipped_experiments_pass_on_the_sandbox(path: Path) -> None:
    result = run_cli("check", str(path))
    assert result.returncode == 0, result.stderr
    assert "via sandbox" in result.stdout


def _foreign(tmp_path: Path, activity: dict, allow: list[str] | None = None) -> tuple[str, str]:
    """An experiment with one activity outside the fault library, and a sandbox inventory
    (allowing ALLOW); nothing here needs the sandbox running."""
    env = write_yaml(tmp_path / "env.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": str(tmp_path / "state"), "port_base": 23000},
        "guardrails": {"allow_actions": allow or []}})
    experiment = write_yaml(tmp_path / "experiment.yaml", {
        "version": "1.0.0", "title": "t", "description": "d", "method": [activity]})
    return str(experiment), str(env)


TERMINATE_PODS = {"type": "action", "name": "kill-pods-directly", "provider": {
    "type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
    "arguments": {"label_selector": "app=lms", "ns": "openedx"}}}


@pytest.mark.parametrize("activity, name", [
    (TERMINATE_PODS, "chaosk8s.pod.actions:terminate_pods"),
    ({"type": "action", "name": "reboot", "provider": {
        "type": "python", "module": "chaosaws.rds.actions", "func": "reboot_db_instance",
        "arguments": {"db_instance_identifier": "edxapp-db"}}},
     "chaosaws.rds.actions:reboot_db_instance"),
    # a function of an actions module acts, whatever the experiment calls it
    ({"type": "probe", "name": "sneaky", "provider": {
        "type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods"}},
     "chaosk8s.pod.actions:terminate_pods"),
    ({"type": "action", "name": "shell", "provider": {"type": "process", "path": "/bin/kill",
                                                      "arguments": "-9 1"}}, "/bin/kill"),
    ({"type": "action", "name": "poke", "provider": {
        "type": "http", "url": "http://127.0.0.1:9/admin/flush", "method": "POST"}},
     "http://127.0.0.1:9/admin/flush"),
], ids=["chaosk8s", "chaosaws", "probe-in-actions-module", "process", "http"])
def test_actions_outside_the_fault_library_are_refused(tmp_path, activity, name) -> None:
    experiment, env = _foreign(tmp_path, activity)
    with pytest.raises(GuardrailRefused) as refused:
        check_experiment_file(experiment, env)
    assert refused.value.field == "guardrails.allow_actions"
    assert f"'{activity['name']}'" in str(refused.value) and f"'{name}'" in str(refused.value)
    experiment, env = _foreign(tmp_path, activity, allow=[name])
    assert check_experiment_file(experiment, env) == []  # allowed by name: no fault target


def test_probes_outside_the_fault_library_stay_free(tmp_path) -> None:
    probe = {"type": "probe", "name": "pods", "provider": {
        "type": "python", "module": "chaosk8s.pod.probes", "func": "pods_in_phase",
        "arguments": {"label_selector": "app=lms"}}}
    experiment, env = _foreign(tmp_path, probe)
    assert check_experiment_file(experiment, env) == []


@pytest.mark.integration
def test_check_refuses_a_direct_chaosk8s_kill_until_allowed(tmp_path) -> None:
    experiment, env = _foreign(tmp_path, TERMINATE_PODS)
    refused = run_cli("check", experiment, "--env", env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = one_paragraph(refused.stderr)
    assert "'kill-pods-directly'" in message and "field 'guardrails.allow_actions'" in message
    experiment, env = _foreign(tmp_path, TERMINATE_PODS,
                               allow=["chaosk8s.pod.actions:terminate_pods"])
    allowed = run_cli("check", experiment, "--env", env)
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.integration
def test_check_refuses_what_chaos_toolkit_refuses(tmp_path) -> None:
    """An experiment chaoslib's own validation rejects (a probe missing its required
    argument) is refused by check too: exit 2, naming the file."""
    experiment, env = _foreign(tmp_path, {"type": "probe", "name": "pods", "provider": {
        "type": "python", "module": "chaosk8s.pod.probes", "func": "pods_in_phase"}})
    result = run_cli("check", experiment, "--env", env)
    assert result.returncode == 2, result.stdout + result.stderr
    message = one_paragraph(result.stderr)
    assert experiment in message and "required argument 'label_selector'" in message
