"""The ledger, on both backends (a file; DynamoDB on moto's server): durable pending
rollbacks, settled by id or by what ran, failures kept, a cut last line survived, and
only the fault library's rollbacks run."""

import logging
from pathlib import Path

import boto3
import pytest

from chaoslib_edx.ledger import DynamoLedger, Ledger, registered_rollbacks
from tests.aws import REGION, dynamodb_table

ROLLBACK = "tests.recovery.rollbacks:record_call"
ALLOWED = frozenset({ROLLBACK})


@pytest.fixture(params=["file", pytest.param("dynamodb", marks=pytest.mark.integration)])
def ledger(request, tmp_path: Path):
    if request.param == "file":
        return Ledger(tmp_path / "ledger.jsonl")
    request.getfixturevalue("aws_env")  # moto's endpoint and dummy credentials
    table = dynamodb_table(f"ledger-{tmp_path.name}"[:60])
    return DynamoLedger(boto3.client("dynamodb", region_name=REGION), table, "staging")


def test_pending_until_done(ledger) -> None:
    first = ledger.record("fault-a", ROLLBACK, {"name": "a"})
    ledger.record("fault-b", ROLLBACK, {"name": "b"})
    assert [e.arguments["name"] for e in ledger.pending()] == ["a", "b"]
    ledger.done(first)
    assert [e.arguments["name"] for e in ledger.pending()] == ["b"]
    ledger.settle(ROLLBACK, {"name": "b"})
    assert ledger.pending() == []


def test_run_pending_newest_first_and_keeps_failures(ledger) -> None:
    from tests.recovery import rollbacks

    rollbacks.calls.clear()
    ledger.record("fault-a", ROLLBACK, {"name": "a"})
    ledger.record("fault-b", ROLLBACK, {"name": "fail"})
    ledger.record("fault-c", ROLLBACK, {"name": "c"})
    results = ledger.run_pending({"k": "v"}, None, allowed=ALLOWED)
    assert [r["ok"] for r in results] == [True, False, True]
    assert rollbacks.calls == [("c", {"k": "v"}), ("fail", {"k": "v"}), ("a", {"k": "v"})]
    (left,) = ledger.pending()
    assert left.arguments == {"name": "fail"}
    assert "asked to fail" in results[1]["error"]


def test_only_the_fault_librarys_rollbacks_run(ledger) -> None:
    """A ledger line is data: one naming any other function is reported, never imported."""
    from tests.recovery import rollbacks

    rollbacks.calls.clear()
    ledger.record("fault", ROLLBACK, {"name": "x"})
    ledger.record("fault", "os:system", {"command": "true"})
    results = ledger.run_pending({}, None)
    assert [r["ok"] for r in results] == [False, False]
    assert all("not a rollback of the fault library" in r["error"] for r in results)
    assert rollbacks.calls == [] and len(ledger.pending()) == 2
    assert "chaoslib_edx.rds.actions:restore_database" in registered_rollbacks()


def test_a_cut_last_line_is_skipped_and_the_rest_runs(tmp_path: Path, caplog) -> None:
    """A crash can cut the last line mid-write: the complete ones before it still run."""
    from tests.recovery import rollbacks

    rollbacks.calls.clear()
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.record("fault-a", ROLLBACK, {"name": "a"})
    with path.open("a") as handle:
        handle.write('{"id": "b1", "fault": "fault-b", "rollback": "tests.rec')
    with caplog.at_level(logging.WARNING, logger="chaostoolkit"):
        assert [e.arguments for e in ledger.pending()] == [{"name": "a"}]
        assert [r["ok"] for r in ledger.run_pending({}, None, allowed=ALLOWED)] == [True]
    assert rollbacks.calls == [("a", {})] and ledger.pending() == []
    assert f"{path}:2: skipping a partial or damaged ledger line" in caplog.text
