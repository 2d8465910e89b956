"""Per-second HDR buckets: counting, error classes, merging and the JSON round trip."""

import io
import json

import pytest

from chaoslib_edx.load.recorder import (
    ClassStats,
    Recorder,
    checked_buckets,
    dump_buckets,
    load_buckets,
    route_class,
    write_lines,
)
from chaoslib_edx.load.series import Series

T0 = 1_800_000_000.5  # a fixed clock: a test's requests never straddle two seconds


def test_requests_fall_into_the_second_of_the_clock() -> None:
    now = [T0]
    recorder = Recorder(clock=lambda: now[0])
    recorder.record("api: catalog", 1.0, False, 200)
    now[0] += 0.4                      # same second
    recorder.record("api: catalog", 1.0, False, 200)
    now[0] += 0.2                      # the next one
    recorder.record("api: catalog", 1.0, False, 200)
    taken = recorder.take()
    assert {second: c["api"].count for second, c in taken.items()} == \
        {int(T0): 2, int(T0) + 1: 1}


def test_route_class_from_request_name() -> None:
    assert route_class("api: enrollment") == "api"
    assert route_class("video: segment") == "video"
    assert route_class("/heartbeat") == "other"


def test_failures_and_server_errors_are_counted_apart() -> None:
    recorder = Recorder(clock=lambda: T0)
    recorder.record("api: catalog", 12.0, False, 200)
    recorder.record("api: catalog", 30.0, True, 503)
    recorder.record("api: catalog", 5.0, True, 0)      # no answer
    recorder.record("auth: login", 40.0, True, 401)    # a failure, not a server error
    (classes,) = recorder.take().values()
    api, auth = classes["api"], classes["auth"]
    assert (api.count, api.failures, api.server_errors) == (3, 2, 2)
    assert (auth.count, auth.failures, auth.server_errors) == (1, 1, 0)
    assert api.hist.get_max_value() == api.hist.get_highest_equivalent_value(30_000)


def test_merge_is_additive_like_a_master_over_workers() -> None:
    a, b, merged = (Recorder(clock=lambda: T0) for _ in range(3))
    for ms in (1, 2, 3):
        a.record("lms: dashboard", ms, False, 200)
    for ms in (100, 200):
        b.record("lms: dashboard", ms, False, 200)
    for worker in (a, b):
        merged.merge(load_buckets(json.loads(json.dumps(dump_buckets(worker.take())))))
    (classes,) = merged.take().values()
    assert classes["lms"].count == 5
    assert classes["lms"].hist.get_total_count() == 5
    assert classes["lms"].hist.get_value_at_percentile(100) >= 199_000


def test_take_leaves_the_current_second() -> None:
    recorder = Recorder(clock=lambda: T0)
    recorder.record("api: catalog", 1.0, False, 200)
    (second,) = recorder.buckets
    assert recorder.take(before=second) == {}
    assert list(recorder.take(before=second + 1)) == [second]


def test_lines_carry_users_only_where_sampled() -> None:
    recorder = Recorder(clock=lambda: T0)
    recorder.record("video: segment", 3.0, False, 200)
    buckets = recorder.take()
    out = io.StringIO()
    write_lines(out, buckets, {})
    write_lines(out, buckets, {next(iter(buckets)): 7})
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert "users" not in first and second["users"] == 7
    assert first["classes"]["video"]["n"] == 1


def test_percentiles_match_hdrh_exactly() -> None:
    import random

    from chaoslib_edx.load.recorder import new_histogram, percentiles

    rng = random.Random(3)
    hist = new_histogram()
    for _ in range(5000):
        hist.record_value(int(rng.lognormvariate(10, 1.2)))
    wanted = (0, 1, 50, 90, 95, 99, 99.9, 100)
    assert percentiles(hist, wanted) == {q: hist.get_value_at_percentile(q) for q in wanted}


def test_session_verdicts_are_events_not_requests(tmp_path) -> None:
    """A signed-in request's verdict goes to the session class, without a latency, and
    request totals and rates leave it out."""
    recorder = Recorder(clock=lambda: 1000.0)
    recorder.record("api: enrollment", 12.0, False, 200)
    recorder.tally("session", failed=False)
    recorder.record("lms: unit", 8.0, True, 401)
    recorder.tally("session", failed=True)
    path = tmp_path / "metrics.jsonl"
    with path.open("w") as out:
        write_lines(out, recorder.take(), {})
    series = Series(path).refresh()
    requests = series.window(1000, 1001)
    assert (requests.count, requests.failures) == (2, 1)
    session = series.window(1000, 1001, ("session",))
    assert (session.count, session.failures, session.server_errors) == (2, 1, 0)
    assert session.hist.get_total_count() == 0  # no latency of its own
    assert series.totals() == {"api": 1, "lms": 1}


def test_open_model_records_latency_from_the_intended_start_beside_the_service_time() -> None:
    """Version 2: the action started 2 s late, so each of its requests took 2 s longer from
    where the learner wanted to start; the service time keeps its meaning."""
    recorder = Recorder(clock=lambda: 100.0)
    recorder.record("api: completion", 10.0, False, 200, intended_ms=2010.0)
    recorder.record("api: completion", 20.0, False, 200)  # a closed-model request: no ihist
    stats = recorder.take()[100]["api"]
    assert stats.hist.get_max_value() == pytest.approx(20_000, rel=0.001)
    assert stats.ihist.get_total_count() == 1
    assert stats.ihist.get_max_value() == pytest.approx(2_010_000, rel=0.001)
    restored = ClassStats.from_json(json.loads(json.dumps(stats.to_json())))
    assert restored.ihist.get_max_value() == stats.ihist.get_max_value()


def test_arrivals_are_counted_per_second_merged_and_written_as_version_2() -> None:
    worker_a, worker_b, master = Recorder(), Recorder(), Recorder()
    for what in ("due", "due", "waited", "late"):
        worker_a.arrival(100.4, what)
    worker_b.arrival(100.9, "due")
    worker_b.arrival(101.0, "dropped")
    master.merge({}, worker_a.take_arrivals())
    master.merge({}, worker_b.take_arrivals())
    arrivals = master.take_arrivals()
    assert arrivals == {100: {"due": 3, "waited": 1, "late": 1, "dropped": 0},
                        101: {"due": 0, "waited": 0, "late": 0, "dropped": 1}}
    out = io.StringIO()
    write_lines(out, {100: {}, 101: {}}, {}, arrivals)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["v"] for line in lines] == [2, 2]
    assert lines[0]["arrivals"]["due"] == 3 and lines[1]["arrivals"]["dropped"] == 1


def test_a_workers_report_is_checked_before_it_is_merged() -> None:
    """A report is untrusted input from another process: a well-formed one (session events
    carry no latencies) is accepted as it is; counts that disagree with the histogram,
    failures beyond requests, or what is not buckets at all are refused."""
    recorder = Recorder()
    recorder.record("api: enroll", 12.0, True, 503)
    recorder.record("api: enroll", 8.0, False, 200)
    recorder.tally("session", False)
    sent = dump_buckets(recorder.take())
    accepted = checked_buckets(json.loads(json.dumps(sent)))
    (classes,) = accepted.values()
    assert classes["api"].count == 2 and classes["session"].count == 1
    second = next(iter(sent))
    bad = [{second: {"api": {**sent[second]["api"], "n": 3}}},        # 3 requests, 2 timed
           {second: {"api": {**sent[second]["api"], "fail": 5}}},     # failures > requests
           {second: {"api": {"n": 1, "fail": 0, "5xx": 0, "hist": "garbage"}}},
           {"not-a-second": {}}, ["a", "list"]]
    for report in bad:
        with pytest.raises(Exception):
            checked_buckets(report)
