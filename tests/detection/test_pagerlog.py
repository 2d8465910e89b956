"""The pager's log read as PagerDuty reads events: incidents, acks, resolutions."""

import json
from pathlib import Path

from chaoslib_edx.detection.pagerlog import PageLog, open_pages, read_pages


def _log(tmp_path: Path, records: list[dict]) -> Path:
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _trigger(key: str, t: float, alert: str = "VideoDeliveryBudgetBurn") -> dict:
    return {"received": t, "kind": "event", "action": "trigger", "dedup_key": key,
            "payload": {"custom_details": {"alertname": alert, "slo": "video-delivery"}}}


def test_repeated_triggers_are_one_incident_and_an_ack_takes_it(tmp_path: Path) -> None:
    log = _log(tmp_path, [_trigger("k", 10), _trigger("k", 15),
                          {"received": 20, "kind": "ack", "dedup_key": "k", "by": "alice"}])
    (page,) = read_pages(log, 0, 100)
    assert (page.received, page.acked, page.acked_by, page.alert) == \
        (10, 20, "alice", "VideoDeliveryBudgetBurn")
    assert open_pages(log) == []


def test_a_trigger_after_a_resolve_is_a_new_incident(tmp_path: Path) -> None:
    log = _log(tmp_path, [_trigger("k", 10),
                          {"received": 30, "kind": "event", "action": "resolve",
                           "dedup_key": "k"},
                          _trigger("k", 40)])
    assert [p.received for p in read_pages(log, 0, 100)] == [10, 40]
    assert open_pages(log) == ["k"]
    assert [p.received for p in read_pages(log, 35, 100)] == [40]


def test_no_log_no_pages(tmp_path: Path) -> None:
    assert read_pages(tmp_path / "none.jsonl", 0, 1) == [] and open_pages(tmp_path / "x") == []


def test_lines_that_are_not_events_are_skipped_and_counted(tmp_path: Path) -> None:
    """What an unchecked pager logged (custom_details a string, a list for a dedup key,
    a cut line) neither hides the incidents around it nor stops the reader."""
    path = _log(tmp_path, [_trigger("a", 10),
                           {**_trigger("b", 11), "payload": {"custom_details": "x"}},
                           {**_trigger("c", 12), "dedup_key": ["c"]},
                           {"received": "soon", "kind": "ack", "dedup_key": "a"},
                           _trigger("d", 13)])
    with path.open("a") as out:
        out.write('{"received": 14, "kind": "ack", "dedup_key": "a", "by": "bob"}\n')
        out.write('{"cut": \n' + "[" * 100_000 + "\n")
    log = PageLog(path)
    assert [p.dedup_key for p in log.pages(0, 100)] == ["a", "d"]
    assert log.skipped == 5 and log.open() == ["d"]
    assert log.pages(0, 100)[0].acked_by == "bob"
