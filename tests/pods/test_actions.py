"""LMS replica kills on the real sandbox: bounded blast radius, replacement, no errors."""

import psutil
import pytest

from chaoslib_edx.ledger import Ledger
from chaoslib_edx.pods.actions import kill_lms_replicas, wait_lms_replicas_ready
from chaoslib_edx.pods.probes import lms_replicas_ready
from chaoslib_edx.targets import GuardrailRefused
from tests.conftest import program_pids
from tests.sandbox.helpers import Traffic, eventually


def _pids(sandbox) -> dict[str, int]:
    return program_pids(sandbox.layout, group="lms")


def test_kill_a_third_under_load_and_wait_ready(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    before = _pids(sandbox)
    with Traffic(f"{sandbox.layout.lb_url}/api/courses/v1/courses/", max_seconds=20) as traffic:
        eventually(lambda: sum(traffic.codes.values()) > 30)
        result = kill_lms_replicas("lms", share=0.33, configuration=config)
        assert len(result["killed"]) == 1 and result["signal"] == "SIGKILL"
        (killed_pid,) = [before[name] for name in result["killed"]]
        eventually(lambda: not psutil.pid_exists(killed_pid)
                   or psutil.Process(killed_pid).status() == psutil.STATUS_ZOMBIE)
        wait_lms_replicas_ready("lms", timeout_seconds=30, configuration=config)
        count = sum(traffic.codes.values())
        eventually(lambda: sum(traffic.codes.values()) > count + 30)
    assert set(traffic.codes) == {200}, (traffic.codes, traffic.errors)
    after = _pids(sandbox)
    assert after[result["killed"][0]] != before[result["killed"][0]]
    assert lms_replicas_ready("lms", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []


@pytest.mark.parametrize("arguments", [{"share": 0.5}, {"count": 2}, {"count": 3}])
def test_over_share_is_refused_and_nothing_is_killed(sandbox, tmp_path, arguments) -> None:
    config = sandbox.configuration(tmp_path)
    before = _pids(sandbox)
    with pytest.raises(GuardrailRefused) as err:
        kill_lms_replicas("lms", configuration=config, **arguments)
    assert "guardrails.max_replica_share" in str(err.value)
    assert str(sandbox.env_file) in str(err.value)
    assert _pids(sandbox) == before
    assert not (tmp_path / "ledger.jsonl").exists()  # nothing recorded: nothing applied
