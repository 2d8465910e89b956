"""The pager's log read as PagerDuty reads events: incidents, acks, resolutions."""

import json
from pathlib import Path

from chaoslib_edx.detection.pagerlog import open_pages, read_pages


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
