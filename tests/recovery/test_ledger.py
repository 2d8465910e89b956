"""The ledger, on both backends (a file; DynamoDB on moto's server): durable pending
rollbacks, each run's own, in each run's own order, failures kept, a cut last line
survived, only the fault library's rollbacks run, and a previous version's lines read."""

import json
import logging
from pathlib import Path

import boto3
import pytest

from chaoslib_edx.ledger import LEGACY, DynamoLedger, Ledger, registered_rollbacks
from tests.aws import REGION, dynamodb_table
from tests.recovery.runs import granted_run, legacy_line

ROLLBACK = "tests.recovery.rollbacks:record_call"
ALLOWED = frozenset({ROLLBACK})


@pytest.fixture(params=["file", pytest.param("dynamodb", marks=pytest.mark.integration)])
def ledger(request, tmp_path: Path):
    if request.param == "file":
        return Ledger(tmp_path / "ledger.jsonl")
    request.getfixturevalue("aws_env")  # moto's endpoint and dummy credentials
    table = dynamodb_table(f"ledger-{tmp_path.name}"[:60])
    return DynamoLedger(boto3.client("dynamodb", region_name=REGION), table, "staging")


@pytest.fixture
def runs(tmp_path: Path):
    """Two runs of one environment, one after the other: tokens 1 and 2 of its lease."""
    first = granted_run(tmp_path, "first-run", "game day A")
    first.lease.release()
    second = granted_run(tmp_path, "second-run", "game day B")
    second.lease.release()
    return first, second


def test_pending_until_done(ledger, runs) -> None:
    run, _ = runs
    first = ledger.record(run, "fault-a", ROLLBACK, {"name": "a"})
    ledger.record(run, "fault-b", ROLLBACK, {"name": "b"})
    assert [e.arguments["name"] for e in ledger.pending()] == ["a", "b"]
    ledger.done(run, first)
    assert [e.arguments["name"] for e in ledger.pending()] == ["b"]
    ledger.settle(run, ROLLBACK, {"name": "b"})
    assert ledger.pending() == []


def test_entries_carry_their_run_and_a_run_settles_only_its_own(ledger, runs) -> None:
    """Two runs recorded the same rollback with the same arguments: the second settling
    its own leaves the first's pending (it was never undone)."""
    first, second = runs
    ledger.record(first, "fault", ROLLBACK, {"name": "same"})
    ledger.record(second, "fault", ROLLBACK, {"name": "same"})
    (theirs,) = ledger.pending("first-run")
    assert (theirs.run, theirs.token, theirs.seq, theirs.label) == ("first-run", 1, 1, "game day A")
    assert ledger.newest("second-run", ROLLBACK, name="same").token == 2
    ledger.settle(second, ROLLBACK, {"name": "same"})
    assert [e.run for e in ledger.pending()] == ["first-run"]
    assert ledger.newest("second-run", ROLLBACK, name="same") is None


def test_run_pending_newest_first_and_keeps_failures(ledger, runs) -> None:
    from tests.recovery import rollbacks

    run, _ = runs
    rollbacks.calls.clear()
    ledger.record(run, "fault-a", ROLLBACK, {"name": "a"})
    ledger.record(run, "fault-b", ROLLBACK, {"name": "fail"})
    ledger.record(run, "fault-c", ROLLBACK, {"name": "c"})
    results = ledger.run_pending(run, {"k": "v"}, None, whose=run.id, allowed=ALLOWED)
    assert [r["ok"] for r in results] == [True, False, True]
    assert rollbacks.calls == [("c", {"k": "v"}), ("fail", {"k": "v"}), ("a", {"k": "v"})]
    (left,) = ledger.pending()
    assert left.arguments == {"name": "fail"}
    assert "asked to fail" in results[1]["error"]


def test_order_is_grant_then_sequence_never_the_writers_clock(tmp_path: Path, runs) -> None:
    """The later run's writer has a clock an hour behind: its entries still come after the
    earlier run's, and `recover` (every run's entries) undoes them first."""
    from tests.recovery import rollbacks

    first, second = runs
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.record(first, "fault", ROLLBACK, {"name": "first-1"})
    ledger.record(second, "fault", ROLLBACK, {"name": "second-1"})
    ledger.record(first, "fault", ROLLBACK, {"name": "first-2"})  # a late line of run 1
    ledger.record(second, "fault", ROLLBACK, {"name": "second-2"})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        if line["run"] == "second-run":
            line["recorded_at"] -= 3600
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [e.arguments["name"] for e in ledger.pending()] == \
        ["first-1", "first-2", "second-1", "second-2"]
    rollbacks.calls.clear()
    recover = granted_run(tmp_path, "recover")
    ledger.run_pending(recover, {}, None, allowed=ALLOWED)
    assert [name for name, _ in rollbacks.calls] == ["second-2", "second-1", "first-2", "first-1"]


def test_a_previous_versions_ledger_is_one_legacy_run(tmp_path: Path, runs) -> None:
    """Lines without a run are read, in their written order, as the run 'legacy': no run
    settles them, and recover runs them (naming them legacy)."""
    from tests.recovery import rollbacks

    path = tmp_path / "ledger.jsonl"
    legacy_line(path, "old1", "fault", ROLLBACK, {"name": "old-1"}, recorded_at=200.0)
    legacy_line(path, "old2", "fault", ROLLBACK, {"name": "old-2"}, recorded_at=100.0)
    ledger = Ledger(path)
    run, _ = runs
    ledger.settle(run, ROLLBACK, {"name": "old-1"})
    assert [(e.run, e.arguments["name"]) for e in ledger.pending()] == \
        [(LEGACY, "old-1"), (LEGACY, "old-2")]
    rollbacks.calls.clear()
    results = ledger.run_pending(run, {}, None, allowed=ALLOWED)
    assert [(r["run"], r["ok"]) for r in results] == [(LEGACY, True), (LEGACY, True)]
    assert [name for name, _ in rollbacks.calls] == ["old-2", "old-1"]
    assert ledger.pending() == []


@pytest.mark.integration
def test_a_previous_versions_dynamodb_items_are_legacy(aws_env, runs) -> None:
    """Items the previous version wrote (sort key: its clock's nanoseconds) are read as
    legacy entries, and a done line of today's format settles them."""
    client = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb_table("ledger-legacy-items")
    for sort_key, name in (("01733000000000000000#aa", "old-1"), ("01733000000000000001#bb",
                                                                   "old-2")):
        client.put_item(TableName=table, Item={
            "pk": {"S": "ledger#staging"}, "sk": {"S": sort_key}, "line": {"S": json.dumps(
                {"id": name, "fault": "fault", "rollback": ROLLBACK,
                 "arguments": {"name": name}, "recorded_at": 1.0})}})
    ledger = DynamoLedger(client, table, "staging")
    run, _ = runs
    assert [(e.run, e.id) for e in ledger.pending()] == [(LEGACY, "old-1"), (LEGACY, "old-2")]
    ledger.done(run, "old-1")
    assert [e.id for e in ledger.pending()] == ["old-2"]


def test_only_the_fault_librarys_rollbacks_run(ledger, runs) -> None:
    """A ledger line is data: one naming any other function is reported, never imported."""
    from tests.recovery import rollbacks

    run, _ = runs
    rollbacks.calls.clear()
    ledger.record(run, "fault", ROLLBACK, {"name": "x"})
    ledger.record(run, "fault", "os:system", {"command": "true"})
    results = ledger.run_pending(run, {}, None)
    assert [r["ok"] for r in results] == [False, False]
    assert all("not a rollback of the fault library" in r["error"] for r in results)
    assert rollbacks.calls == [] and len(ledger.pending()) == 2
    assert "chaoslib_edx.rds.actions:restore_database" in registered_rollbacks()


def test_a_cut_last_line_is_skipped_and_the_rest_runs(tmp_path: Path, runs, caplog) -> None:
    """A crash can cut the last line mid-write: the complete ones before it still run."""
    from tests.recovery import rollbacks

    run, _ = runs
    rollbacks.calls.clear()
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.record(run, "fault-a", ROLLBACK, {"name": "a"})
    with path.open("a") as handle:
        handle.write('{"id": "b1", "fault": "fault-b", "rollback": "tests.rec')
    with caplog.at_level(logging.WARNING, logger="chaostoolkit"):
        assert [e.arguments for e in ledger.pending()] == [{"name": "a"}]
        assert [r["ok"] for r in ledger.run_pending(run, {}, None, allowed=ALLOWED)] == [True]
    assert rollbacks.calls == [("a", {})] and ledger.pending() == []
    assert f"{path}:2: skipping a partial or damaged ledger line" in caplog.text
