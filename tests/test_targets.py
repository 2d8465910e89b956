"""Guardrails every fault passes: production needs a confirmation, targets must be listed."""

from pathlib import Path

import pytest
import yaml

from chaoslib_edx.cdn.actions import break_video_origin
from chaoslib_edx.rds.actions import failover_database
from chaoslib_edx.targets import GuardrailRefused, resolve

PRODUCTION = {"name": "prod-eu", "kind": "production", "driver": "aws",
              "aws": {"region": "eu-west-1", "databases": {"edxapp": {"instance": "edxapp-db"}}},
              "kubernetes": {"deployments": {"lms": {"name": "lms", "label_selector": "app=lms"}}}}


def _env(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_production_refused_without_confirmation(tmp_path: Path) -> None:
    config = {"edx_environment": _env(tmp_path, PRODUCTION), "edx_ledger": str(tmp_path / "l")}
    with pytest.raises(GuardrailRefused) as err:
        failover_database("edxapp", configuration=config)
    assert err.value.field == "kind" and "edx_confirm_production: prod-eu" in str(err.value)
    assert not (tmp_path / "l").exists()  # nothing recorded, nothing done


def test_production_confirmation_names_the_environment(tmp_path: Path) -> None:
    config = {"edx_environment": _env(tmp_path, PRODUCTION)}
    with pytest.raises(GuardrailRefused):
        resolve("database", "edxapp", {**config, "edx_confirm_production": "prod-us"})
    target = resolve("database", "edxapp", {**config, "edx_confirm_production": "prod-eu"})
    assert (target.driver, target.spec.instance) == ("aws", "edxapp-db")
    assert resolve("pods", "lms", {**config, "edx_confirm_production": "prod-eu"}).driver \
        == "kubernetes"


def test_target_not_in_inventory_is_refused(tmp_path: Path, sandbox) -> None:
    config = sandbox.configuration(tmp_path)
    with pytest.raises(GuardrailRefused) as err:
        break_video_origin("assets", configuration=config)
    assert "'assets' is not in the environment inventory" in str(err.value)
    assert sandbox.status()["programs"]["origin"]["state"] == "RUNNING"
    staging = {**PRODUCTION, "kind": "staging"}
    with pytest.raises(GuardrailRefused) as err:
        failover_database("reporting", configuration={"edx_environment": _env(tmp_path, staging)})
    assert err.value.field == "aws.databases" and "known: edxapp" in str(err.value)
