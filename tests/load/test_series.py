"""Reading the metrics file while it grows: whole lines only, late lines merged."""

import io
from pathlib import Path

import pytest

from chaoslib_edx.load.recorder import Recorder, write_lines
from chaoslib_edx.load.series import Series


def _lines(recorder_calls: int, cls: str = "api: catalog") -> str:
    recorder = Recorder()
    for _ in range(recorder_calls):
        recorder.record(cls, 10.0, False, 200)
    out = io.StringIO()
    write_lines(out, recorder.take(), {})
    return out.getvalue()


def test_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    line = _lines(3)
    path.write_text(line[:-20])
    series = Series(path).refresh()
    assert series.seconds == {}
    path.write_text(line)
    assert series.refresh().totals() == {"api": 3}


def test_late_line_for_a_second_is_merged(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text(_lines(3) + _lines(2) + _lines(4, "video: segment"))
    series = Series(path).refresh()
    assert series.totals() == {"api": 5, "video": 4}
    assert len(series.seconds) in (1, 2)  # the lines may straddle a second


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert Series(tmp_path / "none.jsonl").refresh().seconds == {}


def test_truncated_file_is_read_afresh(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text(_lines(3) + _lines(3))
    series = Series(path).refresh()
    path.write_text(_lines(1, "auth: login"))
    assert series.refresh().totals() == {"auth": 1}


def test_second_without_requests_keeps_its_users(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"t":100,"classes":{},"users":4}\n')
    series = Series(path).refresh()
    assert series.seconds[100].users == 4 and series.totals() == {}
    assert series.window(100, 101).count == 0


def test_open_model_windows_use_the_intended_start_and_keep_the_service_time(
        tmp_path: Path) -> None:
    """A version-2 line's latency for SLOs is from the intended start; a version-1 line (no
    ihist) still reads as before."""
    recorder = Recorder(clock=lambda: 100.0)
    for _ in range(10):
        recorder.record("api: completion", 5.0, False, 200, intended_ms=3005.0)
    recorder.arrival(100.0, "due")
    out = io.StringIO()
    write_lines(out, recorder.take(), {}, recorder.take_arrivals())
    path = tmp_path / "metrics.jsonl"
    version_1 = _lines(10).replace('"v":2,', "")  # another second, as version 1 wrote it
    assert '"v"' not in version_1
    path.write_text(out.getvalue() + version_1)
    series = Series(path).refresh()
    window = series.window(100, 101)
    assert window.hist.get_max_value() == pytest.approx(3_005_000, rel=0.001)
    assert window.service_hist.get_max_value() == pytest.approx(5_000, rel=0.001)
    assert series.arrivals(100, 101)["due"] == 1
    old = [t for t in series.seconds if t != 100]
    assert old and series.window(old[0], old[0] + 1).hist.get_max_value() == \
        pytest.approx(10_000, rel=0.001)
