"""The console's web application through Flask's test client (no socket): every /api/
request needs a role's token in the Authorization header, each role may do what its
role allows and nothing more, bad bodies and notes over the limits are refused. The
actions reach the controls given; the game-day runner's own controls act on a real run
in tests/console/test_console.py."""

import json

import pytest

from chaoslib_edx.console.live import Live
from chaoslib_edx.console.server import MAX_VIEWERS, NOTE_MAX_CHARS, NOTES_PER_MINUTE, ROLES, \
    Console, Controls
from chaoslib_edx.gameday.schema import load_gameday
from tests.conftest import REPO

ACTIONS = ("note", "ack", "hold", "release", "abort")


@pytest.fixture
def console():
    gameday = load_gameday(REPO / "gamedays/course-launch.yaml")
    done: list[tuple] = []

    def control(action: str):
        return lambda role, by, *rest: done.append((action, role, by, *rest)) or {
            "message": f"{action} done"}

    made = Console(Live(gameday, {"environment": "sandbox", "run_id": "r1"}),
                   Controls(**{a: control(a) for a in ACTIONS}))
    made.done = done
    return made


def _body(action: str) -> dict:
    return {"name": "ana", "text": "primary lost", "confirm": True} if action == "note" \
        else {"name": "ana", "confirm": True}


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_every_api_path_needs_a_valid_token(console) -> None:
    client = console.app.test_client()
    for headers in ({}, _auth("not-a-token"), {"Authorization": console.tokens["observer"]},
                    {"Authorization": f"Basic {console.tokens['observer']}"}):
        assert client.get("/api/state", headers=headers).status_code == 401
        assert client.get("/api/events", headers=headers).status_code == 401
        for action in ACTIONS:
            answer = client.post(f"/api/{action}", json=_body(action), headers=headers)
            assert answer.status_code == 401, (action, headers)
    assert console.done == []
    # The page itself holds no data and needs none; it is served with a strict CSP.
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers[
        "Content-Security-Policy"]


def test_each_role_may_do_what_its_role_allows_and_nothing_more(console) -> None:
    client = console.app.test_client()
    for role, allowed in ROLES.items():
        state = client.get("/api/state", headers=_auth(console.tokens[role]))
        assert state.status_code == 200 and state.json["role"] == role
        assert state.json["can"] == list(allowed)
        for action in ACTIONS:
            answer = client.post(f"/api/{action}", json=_body(action),
                                 headers=_auth(console.tokens[role]))
            assert answer.status_code == (200 if action in allowed else 403), (role, action)
    assert [(a, r) for a, r, *_ in console.done] == [
        ("note", "observer"), ("note", "on_call"), ("ack", "on_call"),
        ("note", "game_master"), ("ack", "game_master"), ("hold", "game_master"),
        ("release", "game_master"), ("abort", "game_master")]
    assert console.done[0] == ("note", "observer", "ana", "primary lost")


def test_hold_and_abort_must_be_confirmed_and_named(console) -> None:
    client = console.app.test_client()
    gm = _auth(console.tokens["game_master"])
    for action in ("hold", "abort"):
        refused = client.post(f"/api/{action}", json={"name": "ana"}, headers=gm)
        assert refused.status_code == 400 and "confirm" in refused.json["error"]
    assert client.post("/api/abort", json={"confirm": True}, headers=gm).status_code == 400
    assert client.post("/api/abort", data="abort", headers=gm).status_code == 400
    assert client.post("/api/abort", json={"name": "x" * 65, "confirm": True},
                       headers=gm).status_code == 400
    assert console.done == []


def test_notes_are_limited_in_size_and_rate(console) -> None:
    client = console.app.test_client()
    observer = _auth(console.tokens["observer"])
    for text in ("", "   ", "x" * (NOTE_MAX_CHARS + 1), 42):
        answer = client.post("/api/note", json={"name": "ana", "text": text}, headers=observer)
        assert answer.status_code == 400, text
    codes = [client.post("/api/note", json={"name": "ana", "text": f"n{i}"},
                         headers=observer).status_code for i in range(NOTES_PER_MINUTE + 2)]
    assert codes == [200] * NOTES_PER_MINUTE + [429, 429]
    # Another role's token has its own allowance.
    assert client.post("/api/note", json={"name": "bo", "text": "still"},
                       headers=_auth(console.tokens["on_call"])).status_code == 200


def test_the_stream_starts_with_the_whole_state_and_ends_with_the_run(console) -> None:
    client = console.app.test_client()
    response = client.get("/api/events", headers=_auth(console.tokens["observer"]),
                          buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    stream = iter(response.response)
    first = next(stream).decode()
    assert first.startswith("id: ") and "\nevent: state\n" in first
    data = json.loads(first.split("data: ", 1)[1])
    assert data["state"]["run"]["name"] == "Course launch" and data["state"]["notes"] == []
    console.live.event({"t": 1.0, "event": "note", "text": "<b>x</b>", "by": "ana",
                        "role": "observer", "during": None})
    note = json.loads(next(stream).decode().split("data: ", 1)[1])
    assert note["kind"] == "event" and note["event"]["text"] == "<b>x</b>"
    console.live.end("completed")
    assert [m for m in stream if b"event: end" in m]  # the last message, then the end
    assert client.post("/api/note", json={"name": "a", "text": "late"},
                       headers=_auth(console.tokens["observer"])).status_code == 409


def test_the_tokens_are_long_random_and_only_in_the_urls_fragment(console) -> None:
    assert len(set(console.tokens.values())) == 3
    assert all(len(token) >= 40 for token in console.tokens.values())
    console.host, console.port = "127.0.0.1", 1234
    for role, url in console.urls().items():
        assert url == f"http://127.0.0.1:1234/#role={role}&token={console.tokens[role]}"


def test_viewers_are_bounded_and_a_closed_stream_frees_its_place(console) -> None:
    client = console.app.test_client()
    observer = _auth(console.tokens["observer"])
    streams = [client.get("/api/events", headers=observer, buffered=False)
               for _ in range(MAX_VIEWERS)]
    assert [s.status_code for s in streams] == [200] * MAX_VIEWERS
    assert console.live.viewers == MAX_VIEWERS
    assert client.get("/api/events", headers=observer).status_code == 503
    streams.pop().close()  # a viewer gone, even one whose stream never started
    assert console.live.viewers == MAX_VIEWERS - 1
    assert client.get("/api/events", headers=observer, buffered=False).status_code == 200
