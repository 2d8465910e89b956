"""The report's account of the load's workers: joins, losses, and the rate actually sent."""

import json

from chaoslib_edx.load.recorder import ClassStats, write_lines
from chaoslib_edx.report.generators import generators
from chaoslib_edx.report.rundir import RunDir


def _run_dir(tmp_path, events: list[dict], per_second: dict[int, int]):
    (tmp_path / "run.json").write_text(json.dumps({"workers": "2 remote workers"}))
    (tmp_path / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    buckets = {}
    for second, count in per_second.items():
        stats = ClassStats()
        for _ in range(count):
            stats.count += 1
            stats.hist.record_value(1000)
        buckets[second] = {"lms": stats}
    with (tmp_path / "metrics.jsonl").open("w") as out:
        write_lines(out, buckets, {})
    return RunDir.read(tmp_path)


def test_a_lost_worker_splits_the_run_at_its_loss_with_the_rate_sent_on_each_side(tmp_path):
    t0 = 1_800_000_000
    events = [{"t": t0 - 0.5, "event": "load_start"},
              {"t": t0 - 0.4, "event": "worker_joined", "worker": "a", "workers": 1},
              {"t": t0 + 0.3, "event": "worker_joined", "worker": "b", "workers": 2},
              {"t": t0 + 6.2, "event": "worker_left", "worker": "b", "workers": 1,
               "reason": "missing"}]
    run = _run_dir(tmp_path, events, {t0 + s: (100 if s < 6 else 50) for s in range(10)})
    found = generators(run)
    assert found["workers"] == "2 remote workers" and found["joined"] == 2
    assert found["events"] == [{"at_s": 6.2, "event": "left", "worker": "b",
                                "reason": "missing", "workers": 1}]
    assert found["segments"] == [
        {"from_s": 0, "to_s": 6, "workers": 2, "requests_per_s": 100.0},
        {"from_s": 6, "to_s": 10, "workers": 1, "requests_per_s": 50.0}]


def test_a_run_of_one_locust_process_has_no_generators_section(tmp_path):
    run = _run_dir(tmp_path, [{"t": 1_800_000_000, "event": "load_start"}],
                   {1_800_000_000: 5})
    assert generators(run) is None
