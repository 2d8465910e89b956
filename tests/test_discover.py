"""`chaos discover` sees every activity, typed and documented for an SRE."""

import json

from chaoslib_edx import ACTIVITY_MODULES, discover
from tests.conftest import REPO


def test_discover_lists_every_exported_activity_typed_and_documented() -> None:
    activities = discover()["activities"]
    names = {a["name"] for a in activities}
    assert {"failover_database", "restore_database", "evict_cache", "restore_cache",
            "kill_lms_replicas", "wait_lms_replicas_ready", "break_video_origin",
            "restore_video_origin", "database_writable", "cache_healthy",
            "lms_replicas_ready", "video_origin_serving", "slo_met"} <= names
    for activity in activities:
        kind = dict(ACTIVITY_MODULES)[activity["mod"]]
        assert activity["type"] == kind, activity["name"]
        assert activity["doc"] and len(activity["doc"].splitlines()[0]) > 20, activity["name"]
        assert all(arg.get("type") != "object" for arg in activity["arguments"]), activity
        assert [a["name"] for a in activity["arguments"]][-2:] == ["configuration", "secrets"]


def test_chaos_discover_command(tmp_path) -> None:
    import subprocess
    import sys

    out = tmp_path / "discovery.json"
    result = subprocess.run([sys.executable, "-m", "chaostoolkit", "--no-version-check",
                             "discover", "--no-install", "--no-system-info",
                             "--discovery-path", str(out), "chaostoolkit-edx"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(out.read_text())["activities"]) == len(discover()["activities"])
