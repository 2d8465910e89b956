"""`edx-gameday check`: each refusal is exit 2, names the file and field, changes nothing."""

from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, one_paragraph, program_pids, run_cli
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
