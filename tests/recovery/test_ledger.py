"""The ledger: durable pending rollbacks, settled by id or by what ran, failures kept."""

from pathlib import Path

from chaoslib_edx.ledger import Ledger

ROLLBACK = "tests.recovery.rollbacks:record_call"


def test_pending_until_done(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    first = ledger.record("fault-a", ROLLBACK, {"name": "a"})
    ledger.record("fault-b", ROLLBACK, {"name": "b"})
    assert [e.arguments["name"] for e in ledger.pending()] == ["a", "b"]
    ledger.done(first)
    assert [e.arguments["name"] for e in ledger.pending()] == ["b"]
    ledger.settle(ROLLBACK, {"name": "b"})
    assert ledger.pending() == []


def test_run_pending_newest_first_and_keeps_failures(tmp_path: Path) -> None:
    from tests.recovery import rollbacks

    rollbacks.calls.clear()
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.record("fault-a", ROLLBACK, {"name": "a"})
    ledger.record("fault-b", ROLLBACK, {"name": "fail"})
    ledger.record("fault-c", ROLLBACK, {"name": "c"})
    results = ledger.run_pending({"k": "v"}, None)
    assert [r["ok"] for r in results] == [True, False, True]
    assert rollbacks.calls == [("c", {"k": "v"}), ("fail", {"k": "v"}), ("a", {"k": "v"})]
    (left,) = ledger.pending()
    assert left.arguments == {"name": "fail"}
    assert "asked to fail" in results[1]["error"]
