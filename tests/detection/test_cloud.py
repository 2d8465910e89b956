"""The cloud platform's detection settings: CloudWatch alarms and a PagerDuty service from
the inventory; a missing token or a malformed service id is refused naming the field."""

from pathlib import Path

import pytest
import yaml

from chaoslib_edx.detection.cloudwatch import CloudWatchAlarms
from chaoslib_edx.detection.pagerduty import PagerDutyPages
from chaoslib_edx.environment import load_environment
from chaoslib_edx.errors import UserError
from chaoslib_edx.platforms import platform
from tests.conftest import REPO

EXAMPLE = REPO / "gamedays/environments/staging.example.yaml"


def _platform(tmp_path: Path, **detection: object):
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["detection"] = {**spec["detection"], **detection}
    path = tmp_path / "staging.yaml"
    path.write_text(yaml.safe_dump(spec))
    return platform(load_environment(path), str(path)), path


def test_the_example_inventory_reads_alarms_and_pages(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "a-token")
    target, _ = _platform(tmp_path)
    source = target.detection()
    assert isinstance(source.alarms, CloudWatchAlarms)
    assert source.alarms.alarms["edx-staging-video-errors"][0] == "video-delivery"
    assert isinstance(source.pager, PagerDutyPages)
    assert source.pager.service_id == "PSTAGE1"
    assert source.pager.alarms["edx-staging-lms-5xx-burn"] == "lms-availability"


def test_a_missing_token_names_its_field(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PAGERDUTY_API_TOKEN", raising=False)
    target, path = _platform(tmp_path)
    with pytest.raises(UserError) as err:
        target.detection()
    assert err.value.field == "detection.pagerduty.token_env" and err.value.file == str(path)
    assert "PAGERDUTY_API_TOKEN" in str(err.value)


def test_a_malformed_service_id_names_its_field(tmp_path) -> None:
    with pytest.raises(UserError) as err:
        _platform(tmp_path, pagerduty={"service_id": "not-an-id"})
    assert err.value.field == "detection.pagerduty.service_id"
