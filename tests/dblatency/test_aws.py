"""Database latency on AWS: an FIS experiment template started, watched and stopped
through chaosaws against moto's server on 127.0.0.1 (wire level), as the inventory's role."""

import uuid
from pathlib import Path

import boto3
import pytest
import yaml

from chaoslib_edx.dblatency.actions import restore_database_speed, slow_database
from chaoslib_edx.dblatency.probes import database_added_latency, database_at_full_speed
from chaoslib_edx.guardrails import check_experiment_file
from chaoslib_edx.ledger import Ledger
from chaoslib_edx.targets import GuardrailRefused
from tests.conftest import REPO, write_yaml

ROLE = "arn:aws:iam::123456789012:role/edx-gameday-fis"


def _template(delay: int = 300, jitter: int = 50, action: str = "aws:eks:pod-network-latency"
              ) -> str:
    created = boto3.client("fis").create_experiment_template(
        clientToken=uuid.uuid4().hex, description="LMS pods to MySQL +300 ms", roleArn=
        "arn:aws:iam::123456789012:role/fis-execution", stopConditions=[{"source": "none"}],
        targets={"lms": {"resourceType": "aws:eks:pod", "selectionMode": "ALL",
                         "parameters": {"clusterIdentifier": "edx-staging",
                                        "namespace": "openedx",
                                        "selectorType": "labelSelector",
                                        "selectorValue": "app.kubernetes.io/name=lms"}}},
        actions={"latency": {"actionId": action, "targets": {"Pods": "lms"},
                             "parameters": {"delayMilliseconds": str(delay),
                                            "jitterMilliseconds": str(jitter),
                                            "duration": "PT10M",
                                            "kubernetesServiceAccount": "fis"}}})
    return created["experimentTemplate"]["id"]


def test_start_status_stop_as_the_inventory_role(aws_env, moto_endpoint, fis_steps) -> None:
    template = _template()
    config = aws_env({"database_latency": {"edxapp": {"template_id": template,
                                                      "role_arn": ROLE}}})
    moto_endpoint.start_recording()
    started = slow_database("edxapp", latency_ms=300, jitter_ms=50, configuration=config)
    requests = moto_endpoint.recorded()
    assume = [r for r in requests if "Action=AssumeRole" in r["body"]]
    assert assume and f"RoleArn={ROLE.replace(':', '%3A').replace('/', '%2F')}" in \
        assume[0]["body"]
    assert started["status"] == "running" and started["latency_ms"] == 300

    (entry,) = Ledger(config["edx_ledger"]).pending()
    fis = boto3.client("fis")
    (experiment,) = fis.list_experiments(experimentTemplateId=template)["experiments"]
    assert experiment["id"] == started["experiment_id"]
    assert experiment["experimentTemplateId"] == template
    assert experiment["tags"] == {"chaostoolkit-edx-run": entry.arguments["run"]}
    assert database_added_latency("edxapp", configuration=config) == 300
    assert database_at_full_speed("edxapp", configuration=config) is False

    restored = restore_database_speed("edxapp", configuration=config)  # run from the ledger
    assert restored == {"latency_ms": 0, "stopped": [started["experiment_id"]],
                        "status": "restored"}
    assert fis.get_experiment(id=started["experiment_id"])["experiment"]["state"]["status"] \
        == "stopped"
    assert database_at_full_speed("edxapp", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []


def test_restore_leaves_experiments_that_are_not_ours(aws_env, fis_steps) -> None:
    template = _template()
    config = aws_env({"database_latency": {"edxapp": {"template_id": template,
                                                      "role_arn": ROLE}}})
    fis = boto3.client("fis")
    theirs = fis.start_experiment(  # another team's run (a token of its own: FIS is
        experimentTemplateId=template,  # idempotent on it, across tests too)
        clientToken=uuid.uuid4().hex, tags={"team": "search"})["experiment"]["id"]
    fis.get_experiment(id=theirs)  # initiating
    assert database_at_full_speed("edxapp", configuration=config) is True
    assert restore_database_speed("edxapp", configuration=config)["stopped"] == []
    assert fis.get_experiment(id=theirs)["experiment"]["state"]["status"] == "running"


def _experiment(tmp_path: Path, config: dict, **arguments: object) -> str:
    experiment = yaml.safe_load((REPO / "experiments/database-degradation.yaml").read_text())
    experiment["method"][0]["provider"]["arguments"].update(arguments)
    experiment["configuration"]["edx_environment"] = config["edx_environment"]
    return str(write_yaml(tmp_path / "slow.yaml", experiment))


@pytest.mark.parametrize("arguments, field", [
    ({"latency_ms": 200, "jitter_ms": 50}, "latency_ms"),
    ({"latency_ms": 300, "jitter_ms": 0}, "jitter_ms"),
])
def test_a_delay_the_template_does_not_inject_is_refused(aws_env, tmp_path, arguments,
                                                         field) -> None:
    template = _template()
    config = aws_env({"database_latency": {"edxapp": {"template_id": template,
                                                      "role_arn": ROLE}}})
    path = _experiment(tmp_path, config, **arguments)
    with pytest.raises(GuardrailRefused, match=r"injects \(300 \+/- 50 ms\)") as refused:
        check_experiment_file(path)
    assert (refused.value.file, refused.value.field) == \
        (path, f"activity 'slow-the-database' provider.arguments.{field}")
    assert boto3.client("fis").list_experiments(experimentTemplateId=template)[
        "experiments"] == []


def test_out_of_bounds_is_refused_before_any_aws_call(aws_env, moto_endpoint, tmp_path) -> None:
    config = aws_env({"database_latency": {"edxapp": {"template_id": "EXTnotcalled",
                                                      "role_arn": ROLE}}})
    moto_endpoint.start_recording()
    for latency in (-1, 5001):
        with pytest.raises(GuardrailRefused, match=r"1\.\.5000") as refused:
            check_experiment_file(_experiment(tmp_path, config, latency_ms=latency))
        assert refused.value.field.endswith("provider.arguments.latency_ms")
    assert moto_endpoint.recorded() == []


def test_a_template_without_the_latency_action_is_refused(aws_env, tmp_path) -> None:
    template = _template(action="aws:eks:pod-delete")
    config = aws_env({"database_latency": {"edxapp": {"template_id": template,
                                                      "role_arn": ROLE}}})
    with pytest.raises(GuardrailRefused, match="aws:eks:pod-network-latency") as refused:
        check_experiment_file(_experiment(tmp_path, config))
    assert refused.value.file == config["edx_environment"]
    assert refused.value.field == "aws.database_latency.edxapp.template_id"
