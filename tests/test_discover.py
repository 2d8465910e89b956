"""`chaos discover` sees every activity, typed and documented for an SRE."""

import json
import subprocess
import sys

import pytest

from chaoslib_edx import activity_modules, discover
from chaoslib_edx.faults import FAULTS
from tests.conftest import REPO


def test_discover_lists_every_exported_activity_typed_and_documented() -> None:
    activities = discover()["activities"]
    kinds = dict(activity_modules())
    assert {a["mod"] for a in activities} == set(kinds)
    for activity in activities:
        assert activity["type"] == kinds[activity["mod"]], activity["name"]
        assert activity["doc"] and len(activity["doc"].splitlines()[0]) > 20, activity["name"]
        assert all(arg.get("type") != "object" for arg in activity["arguments"]), activity
        assert [a["name"] for a in activity["arguments"]][-2:] == ["configuration", "secrets"]
    names = {a["name"] for a in activities}
    assert {fault.health_probe for fault in FAULTS} <= names  # the plan's health probes
    assert "slo_met" in names


@pytest.mark.integration
def test_chaos_discover_command(tmp_path) -> None:
    out = tmp_path / "discovery.json"
    result = subprocess.run([sys.executable, "-m", "chaostoolkit", "--no-version-check",
                             "discover", "--no-install", "--no-system-info",
                             "--discovery-path", str(out), "chaostoolkit-edx"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(out.read_text())["activities"]) == len(discover()["activities"])
