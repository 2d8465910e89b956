"""A zone outage on AWS: the zone's FIS template (the AZ power interruption scenario)
checked against the experiment's zone and duration, then started, watched and stopped
through chaosaws against moto's server on 127.0.0.1 (wire level). moto's FIS accepts any
template and action id, so every refusal here is our check's, and nothing starts on one."""

import uuid
from pathlib import Path

import boto3
import pytest
import yaml

from chaoslib_edx.guardrails import check_experiment_file
from chaoslib_edx.ledger import Ledger
from chaoslib_edx.targets import GuardrailRefused
from chaoslib_edx.zone.actions import restore_zone, zone_outage
from chaoslib_edx.zone.probes import write_committed, writes_kept, zone_healthy
from tests.aws import REGION
from tests.conftest import REPO, run_cli, one_paragraph, write_yaml

ROLE = "arn:aws:iam::123456789012:role/edx-gameday-fis"
ZONE = f"{REGION}a"


def _scenario(zone: str = ZONE, duration: str = "PT1M") -> tuple[dict, dict]:
    """The AZ power interruption scenario's targets and actions, as chaosaws builds them,
    pinned to ZONE and lasting DURATION."""
    targets = {
        "nodes": {"resourceType": "aws:ec2:instance", "selectionMode": "ALL",
                  "resourceTags": {"eks:cluster-name": "edx-staging"},
                  "filters": [{"path": "State.Name", "values": ["running"]},
                              {"path": "Placement.AvailabilityZone", "values": [zone]}]},
        "database": {"resourceType": "aws:rds:cluster", "selectionMode": "ALL",
                     "resourceTags": {"app": "edx"},
                     "parameters": {"writerAvailabilityZoneIdentifiers": zone}},
        "cache": {"resourceType": "aws:elasticache:replicationgroup", "selectionMode": "ALL",
                  "resourceTags": {"app": "edx"},
                  "parameters": {"availabilityZoneIdentifier": zone}},
        "subnets": {"resourceType": "aws:ec2:subnet", "selectionMode": "ALL",
                    "resourceTags": {"app": "edx"},
                    "filters": [{"path": "AvailabilityZone", "values": [zone]}]}}
    actions = {
        "stop-nodes": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "nodes"},
                       "parameters": {"startInstancesAfterDuration": duration}},
        "failover-database": {"actionId": "aws:rds:failover-db-cluster",
                              "targets": {"Clusters": "database"}},
        "cache-power": {"actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                        "targets": {"ReplicationGroups": "cache"},
                        "parameters": {"duration": duration}},
        "cut-subnets": {"actionId": "aws:network:disrupt-connectivity",
                        "targets": {"Subnets": "subnets"},
                        "parameters": {"duration": duration, "scope": "all"}}}
    return targets, actions


def _template(targets: dict, actions: dict) -> str:
    return boto3.client("fis").create_experiment_template(
        clientToken=uuid.uuid4().hex, description="AZ power interruption, zone a",
        roleArn="arn:aws:iam::123456789012:role/fis-execution",
        stopConditions=[{"source": "none"}], targets=targets,
        actions=actions)["experimentTemplate"]["id"]


def _inventory(aws_env, template: str) -> dict:
    return aws_env({"zones": {"a": {"availability_zone": ZONE, "template_id": template,
                                    "role_arn": ROLE}}})


def test_start_watch_and_stop_ours_leaving_others_experiments(aws_env, fis_steps) -> None:
    template = _template(*_scenario())
    config = _inventory(aws_env, template)
    fis = boto3.client("fis")
    theirs = fis.start_experiment(  # another team's run (a token of its own: FIS is
        experimentTemplateId=template,  # idempotent on it, across tests too)
        clientToken=uuid.uuid4().hex, tags={"team": "search"})["experiment"]["id"]
    fis.get_experiment(id=theirs)  # initiating
    assert zone_healthy("a", configuration=config) is True  # theirs is not our outage

    dark = zone_outage("a", duration_seconds=60, configuration=config)
    # (Listing does not move moto's experiments on; each GetExperiment does.)
    assert zone_healthy("a", configuration=config) is False  # ours is live
    assert dark["status"] == "running" and dark["findings"] == {"availability_zone": ZONE}
    assert set(dark["dark"]) == {"aws:ec2:stop-instances", "aws:rds:failover-db-cluster",
                                 "aws:elasticache:replicationgroup-interrupt-az-power",
                                 "aws:network:disrupt-connectivity"}
    (entry,) = Ledger(config["edx_ledger"]).pending()
    listed = {e["id"]: e for e in fis.list_experiments(experimentTemplateId=template)[
        "experiments"]}
    assert listed[dark["experiment_id"]]["tags"] == {"chaostoolkit-edx-run":
                                                     entry.arguments["run"]}

    back = restore_zone("a", configuration=config)  # its run from the ledger
    assert back["resumed"] == [dark["experiment_id"]] and back["status"] == "restored"
    assert fis.get_experiment(id=dark["experiment_id"])["experiment"]["state"]["status"] \
        == "stopped"
    assert fis.get_experiment(id=theirs)["experiment"]["state"]["status"] == "running"
    assert zone_healthy("a", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []
    # The runner does not reach RDS: the write probes say so, never a vacuous "kept".
    for probe in (write_committed, writes_kept):
        with pytest.raises(RuntimeError, match="cannot reach this platform's database"):
            probe("a", configuration=config)


def _experiment(tmp_path: Path, config: dict, duration_seconds: int = 60) -> str:
    experiment = yaml.safe_load((REPO / "experiments/zone-outage.yaml").read_text())
    (darken,) = [a for a in experiment["method"] if a["name"] == "darken-zone-a"]
    darken["provider"]["arguments"]["duration_seconds"] = duration_seconds
    experiment["configuration"]["edx_environment"] = config["edx_environment"]
    return str(write_yaml(tmp_path / "zone-outage.yaml", experiment))


def _without(part: str):
    def change(targets: dict, actions: dict) -> None:
        del actions[part]
    return change


def _pinned_to(target: str, zone: str):
    def change(targets: dict, actions: dict) -> None:
        spec = targets[target]
        for f in spec.get("filters", []):
            if "AvailabilityZone" in f["path"]:
                f["values"] = [zone]
        for name in ("availabilityZoneIdentifier", "writerAvailabilityZoneIdentifiers"):
            if name in spec.get("parameters", {}):
                spec["parameters"][name] = zone
    return change


def _unpinned(targets: dict, actions: dict) -> None:
    targets["nodes"]["filters"] = [f for f in targets["nodes"]["filters"]
                                   if "AvailabilityZone" not in f["path"]]


def _reboot_without_failover(targets: dict, actions: dict) -> None:
    targets["database"] = {"resourceType": "aws:rds:db", "selectionMode": "ALL",
                           "resourceTags": {"app": "edx"}}
    actions["failover-database"] = {"actionId": "aws:rds:reboot-db-instances",
                                    "targets": {"DBInstances": "database"}, "parameters": {}}


@pytest.mark.parametrize("change, words", [
    (_without("cut-subnets"), "lacks aws:network:disrupt-connectivity"),
    (_without("failover-database"),
     "lacks aws:rds:failover-db-cluster or aws:rds:reboot-db-instances"),
    (_pinned_to("cache", f"{REGION}b"), f"act on {REGION}b, not {ZONE} alone"),
    (_unpinned, f"aws:ec2:stop-instances act on every zone, not {ZONE} alone"),
    (_reboot_without_failover, "reboots the database without forceFailover"),
], ids=["no-network-cut", "no-database-failover", "cache-in-another-zone",
        "nodes-in-every-zone", "reboot-without-failover"])
def test_a_template_that_is_not_the_zones_scenario_is_refused(aws_env, moto_endpoint,
                                                              tmp_path, change,
                                                              words) -> None:
    targets, actions = _scenario()
    change(targets, actions)
    template = _template(targets, actions)
    config = _inventory(aws_env, template)
    with pytest.raises(GuardrailRefused, match=words) as refused:
        check_experiment_file(_experiment(tmp_path, config))
    assert (refused.value.file, refused.value.field) == \
        (config["edx_environment"], "aws.zones.a.template_id")
    assert boto3.client("fis").list_experiments(experimentTemplateId=template)[
        "experiments"] == []


def test_a_duration_the_template_does_not_last_exits_2_naming_the_argument(
        aws_env, tmp_path) -> None:
    """Through the CLI, as an SRE checks an experiment before a game day: exit 2, the
    experiment file and the argument named, nothing started."""
    template = _template(*_scenario(duration="PT2M"))
    config = _inventory(aws_env, template)
    path = _experiment(tmp_path, config, duration_seconds=60)
    result = run_cli("check", path, "--env", config["edx_environment"],
                     env={"EDX_LEDGER": config["edx_ledger"]})
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "60 s is not how long the FIS template" in message and "(120 s)" in message
    assert path in message and "provider.arguments.duration_seconds" in message
    assert boto3.client("fis").list_experiments(experimentTemplateId=template)[
        "experiments"] == []
    assert not Path(config["edx_ledger"]).exists()
