"""The console's live state from the runner's events and readings: steps through their
states, the next fault's due time moved by the time held, a viewer that stops reading
dropped instead of waited for."""

import json

from chaoslib_edx.console.live import CLOSED, VIEWER_QUEUE, Live
from chaoslib_edx.gameday.schema import load_gameday
from tests.conftest import REPO


def _live() -> Live:
    return Live(load_gameday(REPO / "gamedays/course-launch.yaml"), {"run_id": "r1"})


def _messages(viewer) -> list:
    found = []
    while not viewer.empty():
        raw = viewer.get_nowait()
        found.append(raw if raw is CLOSED else json.loads(raw.decode().split("data: ", 1)[1]))
    return found


def test_steps_follow_the_timeline_and_due_times_move_with_the_hold() -> None:
    live = _live()
    first, second = live.steps[0]["name"], live.steps[1]["name"]
    live.event({"t": 100.0, "event": "load_start"})
    live.event({"t": 115.0, "event": "timeline_start"})
    live.tick("warm-up", {}, 0.0, {}, 0.0, {"held": False, "since": None, "by": None})
    assert live.steps[1]["due"] == 115.0 + live.steps[1]["offset_s"]
    live.event({"t": 116.0, "event": "fault_start", "experiment": first})
    live.tick("live", {}, 0.0, {}, 12.5, {"held": True, "since": 120.0, "by": "gm"})
    state = live.snapshot()
    assert [s["state"] for s in state["steps"][:2]] == ["live", "to come"]
    assert state["steps"][0]["due"] is None and state["steps"][0]["fault_start"] == 116.0
    assert state["steps"][1]["due"] == 115.0 + live.steps[1]["offset_s"] + 12.5
    assert state["hold"] == {"held": True, "since": 120.0, "by": "gm", "total_s": 12.5}
    for kind in ("rollback_start", "fault_end", "experiment_end"):
        live.event({"t": 130.0, "event": kind, "experiment": first})
    assert live.snapshot()["steps"][0]["state"] == "done"
    assert live.snapshot()["steps"][0]["fault_end"] == 130.0 and second


def test_ticks_carry_the_slos_and_a_chart_point_notes_and_events_the_stream() -> None:
    live = _live()
    viewer = live.subscribe()
    name = live.slos[0]["name"]
    reading = {name: {"value": 0.97, "met": False, "burn_rate": 30.0, "budget_burned": 0.001,
                      "total": 50}}
    live.tick("live", reading, 12.0, {0: {"limit": 14.4}}, 0.0,
              {"held": False, "since": None, "by": None})
    live.event({"t": 5.0, "event": "note", "text": "5xx", "by": "ana", "role": "observer"})
    state, tick, note = _messages(viewer)
    assert state["kind"] == "state" and state["state"]["series"] == []
    assert tick["kind"] == "tick" and tick["point"][name] == 0.97
    assert tick["state"]["slos"][0]["burn_rate"] == 30.0 and tick["state"]["rate"] == 12.0
    assert note["kind"] == "event" and note["t"] == 5.0 and note["seq"] == tick["seq"] + 1
    assert live.snapshot()["notes"][0]["text"] == "5xx"


def test_a_viewer_that_stops_reading_is_dropped_not_waited_for() -> None:
    live = _live()
    slow, quick = live.subscribe(), live.subscribe()
    assert b"event: state" in quick.get_nowait()
    for second in range(VIEWER_QUEUE + 5):
        live.event({"t": float(second), "event": "worker_joined", "workers": 1})
        quick.get_nowait()
    assert live.viewers == 1  # the slow one is gone, the quick one still follows
    drained = []
    while not slow.empty():
        drained.append(slow.get_nowait())
    assert drained[-1] is CLOSED
    live.end("completed")
    assert quick.get_nowait().find(b"event: end") > 0 and quick.get_nowait() is CLOSED
