"""The workers' settings and the master's log of joins and leaves, as the runner reads it."""

import json

import pytest

from chaoslib_edx.load import launcher
from chaoslib_edx.load.workers import RemoteWorkers, WorkerLog, describe, process_count


def test_the_log_is_read_as_it_grows_each_event_once_and_whole_lines_only(tmp_path):
    path = tmp_path / "workers.jsonl"
    log = WorkerLog(path)
    assert log.poll() == [] and log.joined() == 0  # no file yet: the master has not begun
    joined = {"t": 1.0, "event": "joined", "worker": "a", "workers": 1}
    path.write_text(json.dumps(joined) + "\n" + '{"t": 2.0, "event": "jo')
    assert [e.worker for e in log.poll()] == ["a"] and log.joined() == 1
    with path.open("a") as handle:  # the cut line completes, a loss follows
        handle.write('ined", "worker": "b", "workers": 2}\n')
        handle.write(json.dumps({"t": 3.0, "event": "left", "worker": "a", "workers": 1,
                                 "reason": "missing"}) + "\n")
    assert [(e.event, e.worker) for e in log.poll()] == [("joined", "b"), ("left", "a")]
    assert log.poll() == [] and log.joined() == 1
    assert [(e.worker, e.reason) for e in log.left()] == [("a", "missing")]


def test_workers_are_described_and_counted_as_load_processes():
    remote = RemoteWorkers(expect=4, join_timeout_s=30)
    assert describe(remote) == "4 remote workers (joining within 30 s)"
    assert describe(3) == "3 local workers" and describe(0) == "one Locust process"
    assert (process_count(remote), process_count(3), process_count(0)) == (4, 3, 1)


@pytest.mark.parametrize("host, bind, words", [
    ("http://10.0.0.5", None, "refusing to send load to http://10.0.0.5"),
    ("http://127.0.0.1:8000", ("0.0.0.0", 5557), "refusing to bind the load's master to 0.0.0.0"),
])
def test_the_launcher_keeps_a_loopback_run_on_loopback(tmp_path, host, bind, words):
    """Refused before any process starts (the unit tier would fail a started process)."""
    with pytest.raises(ValueError, match=words):
        launcher.start("profile.py", host, 10, tmp_path / "out",
                       workers=RemoteWorkers(expect=2), master_bind=bind)
    assert not (tmp_path / "out").exists()
