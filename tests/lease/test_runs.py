"""Runs and the fence: a run is re-entrant within its process (a game day's experiments
act under its grant, never a second one), an activity called outside any run takes the
lease for its call, and a run that lost its grant acts no more."""

from pathlib import Path

import pytest
from chaoslib.types import Configuration

from chaoslib_edx import lease
from chaoslib_edx.ledger import open_ledger, own_entry, record_rollback, settle
from tests.conftest import write_yaml

ROLLBACK = "tests.recovery.rollbacks:record_call"


@lease.fenced
def fault(name: str = "x", configuration: Configuration = None) -> dict:
    """A fault as the library writes one: its rollback recorded, under the acting run."""
    record_rollback("fault", ROLLBACK, {"name": name}, configuration)
    run = lease.current(configuration)
    return {"run": run.id, "token": run.token}


@lease.fenced
def rollback(name: str = "x", configuration: Configuration = None) -> None:
    """Its rollback: it settles the acting run's entry, and only that run's."""
    assert own_entry(ROLLBACK, configuration, name=name) is not None
    settle(ROLLBACK, {"name": name}, configuration)


@pytest.fixture
def config(tmp_path: Path) -> dict:
    env = write_yaml(tmp_path / "env.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": "state", "port_base": 23000}})
    return {"edx_environment": str(env), "edx_ledger": str(tmp_path / "ledger.jsonl")}


def test_a_run_is_reentrant_in_its_process(config) -> None:
    run = lease.begin(config, "game day 'g'")
    try:
        assert fault(configuration=config) == {"run": run.id, "token": run.token}
        assert fault(configuration=config)["token"] == run.token  # no second grant
        with pytest.raises(RuntimeError, match="already runs game day 'g'"):
            lease.begin(config, "another")
        (first, second) = open_ledger(config).pending(run.id)
        assert (first.seq, second.seq) == (1, 2) and first.label == "game day 'g'"
    finally:
        lease.end(run)
    assert lease.current(config) is None
    assert lease.begin(config, "next").token == run.token + 1
    lease.end(lease.current(config))


def test_outside_a_run_each_call_takes_the_lease_under_the_processs_run(config) -> None:
    """Calls outside a run hold the lease for their length only; they share one run id (the
    process's), so a later rollback settles what an earlier fault recorded."""
    first = fault("a", configuration=config)
    second = fault("b", configuration=config)
    assert lease.current(config) is None  # nothing held between calls
    assert first["run"] == second["run"] and second["token"] == first["token"] + 1
    rollback("a", configuration=config)
    assert [e.arguments["name"] for e in open_ledger(config).pending()] == ["b"]
    rollback("b", configuration=config)
    assert open_ledger(config).pending() == []


def test_a_run_that_lost_its_grant_acts_no_more(config, tmp_path) -> None:
    """Its token is no longer the environment's current one: every fenced call is refused
    before it acts (nothing recorded), and the loss is reported once, with its reason."""
    losses = []
    run = lease.begin(config, "game day 'g'", on_lost=losses.append)
    try:
        run.lease.counter.write_text(f"{run.token + 1}\n")  # a later grant's token
        with pytest.raises(lease.LeaseLost, match="is not the current one"):
            fault(configuration=config)
        with pytest.raises(lease.LeaseLost):
            fault(configuration=config)
        assert len(losses) == 1 and "fencing token" in losses[0]
        assert run.lost_at() is not None and run.lost_at().startswith("+")
    finally:
        lease.end(run)
    assert open_ledger(config).pending() == []
