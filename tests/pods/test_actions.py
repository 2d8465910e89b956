"""LMS replica kills on the real sandbox: bounded blast radius, replacement, no errors."""

import time

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


def test_a_held_stop_keeps_the_replica_down_until_restored(sandbox, tmp_path) -> None:
    """Unlike a kill, which supervisord undoes at once: what a capacity sweep holds."""
    from chaoslib_edx.pods.actions import restore_lms_replicas, stop_lms_replicas
    from chaoslib_edx.sandbox.supervisor import Supervisor

    config = sandbox.configuration(tmp_path)
    result = stop_lms_replicas("lms", count=1, configuration=config)
    (stopped,) = result["stopped"]
    assert result["replicas"] == 3
    (entry,) = Ledger(config["edx_ledger"]).pending()
    assert entry.arguments == {"deployment": "lms", "replicas": 3}
    time.sleep(3)  # longer than supervisord takes to restart a killed replica
    assert Supervisor(sandbox.layout).process(stopped)["statename"] == "STOPPED"
    assert lms_replicas_ready("lms", configuration=config) is False
    assert restore_lms_replicas("lms", timeout_seconds=30, configuration=config) \
        == {"ready_replicas": 3}
    assert lms_replicas_ready("lms", configuration=config) is True
    assert Ledger(config["edx_ledger"]).pending() == []


def test_stopping_every_replica_is_refused(sandbox, tmp_path) -> None:
    from chaoslib_edx.pods.actions import stop_lms_replicas

    config = sandbox.configuration(tmp_path)
    before = _pids(sandbox)
    with pytest.raises(GuardrailRefused, match="blast radius"):
        stop_lms_replicas("lms", count=3, configuration=config)
    assert _pids(sandbox) == before and not (tmp_path / "ledger.jsonl").exists()
