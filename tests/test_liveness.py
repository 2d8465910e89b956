"""Fault liveness, the mechanism: a live check is polled until it finds the fault over (or
is stopped by the fault's rollback); a check that cannot answer is unknown, never "ended";
an instantaneous fault has none; every fault action of the registry says which applies."""

import time
from importlib import import_module
from pathlib import Path

import pytest

from chaoslib_edx import liveness
from chaoslib_edx.faults import FAULTS
from tests.conftest import write_yaml


@pytest.fixture
def config(tmp_path: Path) -> dict:
    env = write_yaml(tmp_path / "env.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": "state", "port_base": 23000}})
    return {"edx_environment": str(env)}


def _watch(config: dict, answers: list) -> liveness._Watch:
    """A watch of the sandbox's database latency whose check gives ANSWERS in turn (an
    exception instance is raised)."""
    def check(target, arguments, result, secrets):
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    life = liveness.FaultLife("database_latency", "edxapp", "slow_database", time.time(),
                              "live_slow")
    return liveness._Watch(life, check, {}, {}, config, None, poll_s=0.01)


def test_a_fault_found_over_is_recorded_with_when(config) -> None:
    watch = _watch(config, [True, True, False])
    watch.start()
    watch.join(timeout=5)
    assert watch.life.observable is True and watch.life.checks == 3
    assert watch.life.ended_at is not None and watch.life.ended_after_s >= 0
    assert liveness.ended_early([watch.life.to_dict()])["action"] == "slow_database"


def test_a_rollback_stops_a_live_watch_without_an_end(config) -> None:
    watch = _watch(config, [True])
    watch.start()
    time.sleep(0.1)
    watch.stop()  # what the rollback does before it acts
    assert not watch.is_alive() and watch.life.ended_at is None and watch.life.checks > 1


def test_a_check_that_cannot_answer_is_unknown_not_over(config) -> None:
    watch = _watch(config, [OSError("the path is restarting")])
    watch.start()
    time.sleep(0.1)
    watch.stop()
    assert watch.life.ended_at is None and watch.life.observable is None
    assert watch.life.errors and "restarting" in watch.life.errors[0]
    unseen = _watch(config, [None])  # this platform cannot show it: checked once, no more
    unseen.start()
    unseen.join(timeout=5)
    assert unseen.life.observable is False and unseen.life.ended_at is None


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.kind)
def test_every_fault_action_has_a_live_check_or_is_instantaneous(fault) -> None:
    actions = import_module(fault.actions_module)
    applied = [name for name in actions.__all__ if name not in fault.rollbacks]
    assert sorted(fault.lives) == sorted(applied)
    for action, check in fault.lives.items():
        if check is not None:
            assert callable(getattr(actions, check)), (action, check)
