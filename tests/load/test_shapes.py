"""The launch curve at given ticks, and reading replay curves (errors name file and line)."""

from pathlib import Path

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.load.shapes import ArrivalCurve, LaunchCurve, ReplayCurve

CURVE = LaunchCurve(baseline_users=10, peak_users=100, baseline_s=600, spike_s=60,
                    plateau_s=1200, decay_s=600, time_scale=60)  # 41 min in 41 s


@pytest.mark.parametrize("wall_s, users", [
    (0, 10), (9.9, 10),           # baseline: 600 s / 60
    (10.5, 55),                   # half-way up the spike: 10 + 90 * 30/60
    (11, 100), (30, 100),         # plateau
    (36, 55),                     # half-way down the decay
    (40.99, 10), (41, None),      # end of the curve: the run stops
])
def test_launch_curve_users_at_ticks(wall_s: float, users: int | None) -> None:
    assert CURVE.users_at(wall_s) == users


def test_launch_spike_is_10x_in_under_a_minute_by_default() -> None:
    curve = LaunchCurve()
    assert curve.peak_users == 10 * curve.baseline_users and curve.spike_s < 60
    assert curve.spawn_rate() >= (curve.peak_users - curve.baseline_users) / (curve.spike_s / curve.time_scale) - 1


def test_fit_compresses_to_run_time_and_peak() -> None:
    fitted = CURVE.fit(total_wall_s=20, peak_users=20)
    assert fitted.duration_s == pytest.approx(20)
    assert fitted.peak_users == 20 and fitted.baseline_users == 2
    assert fitted.users_at(19.9) is not None and fitted.users_at(20) is None


def test_curve_from_environment_and_bad_value() -> None:
    curve = LaunchCurve.from_env({"EDX_PEAK_USERS": "30", "EDX_TIME_SCALE": "2"})
    assert (curve.peak_users, curve.time_scale) == (30, 2.0)
    with pytest.raises(UserError, match="EDX_SPIKE_S"):
        LaunchCurve.from_env({"EDX_SPIKE_S": "soon"})


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "curve.csv"
    path.write_text(text)
    return path


def test_replay_curve_scaled_and_compressed(tmp_path: Path) -> None:
    curve = ReplayCurve.from_csv(_csv(tmp_path, "offset_s,rps\n0,10\n60,40\n120,20\n"),
                                 scale=2.5, time_scale=60)
    assert curve.duration_s == pytest.approx(3)
    assert [curve.rate_at(t) for t in (0, 0.99, 1.0, 2.5)] == [25, 25, 100, 50]
    assert curve.rate_at(3) is None


def test_replay_curve_timestamps_start_at_zero(tmp_path: Path) -> None:
    curve = ReplayCurve.from_csv(_csv(tmp_path, "timestamp,users\n1700000000,5\n1700000010,9\n"))
    assert curve.offsets == (0, 10) and curve.column == "users"


@pytest.mark.parametrize("text, field", [
    ("", "line 1"),
    ("offset,rps\n0,1\n", "line 1"),
    ("offset_s,rps\n", "line 2"),
    ("offset_s,rps\n0,1\n10,lots\n", "line 3"),
    ("offset_s,rps\n0,1\n0,2\n", "line 3"),
    ("offset_s,rps\n0,-1\n", "line 2"),
])
def test_malformed_curve_names_file_and_line(tmp_path: Path, text: str, field: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(UserError) as err:
        ReplayCurve.from_csv(path)
    assert err.value.field == field and err.value.file == str(path)


def test_shipped_enrollment_curve_has_a_term_start_peak() -> None:
    curve = ReplayCurve.from_csv(Path(__file__).parents[2] / "loadprofiles/data/enrollment_peak.csv")
    day = 86400
    first_day_peak = max(v for o, v in zip(curve.offsets, curve.values) if o < day)
    second_day_peak = max(v for o, v in zip(curve.offsets, curve.values) if day <= o < 2 * day)
    assert second_day_peak > 2.5 * first_day_peak  # the term start
    assert min(curve.values) > 0


def test_arrival_curve_steps_space_arrivals_evenly() -> None:
    curve = ArrivalCurve.steps([10, 20], 10)
    assert curve.encode() == "0:10,10:10,10:20,20:20"
    assert curve.arrivals_until(20) == 300
    assert [round(curve.time_of(n), 3) for n in (0, 1, 99, 100, 101, 299)] == \
        [0, 0.1, 9.9, 10, 10.05, 19.95]
    assert curve.time_of(300) is None  # the curve holds 300 arrivals, 0..299


def test_arrival_curve_ramp_spaces_arrivals_by_its_integral() -> None:
    ramp = ArrivalCurve(((0, 0), (10, 10)))  # 50 arrivals, denser as the rate grows
    times = [ramp.time_of(n) for n in range(50)]
    assert times[1] == pytest.approx(2 ** 0.5, abs=1e-9)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps == sorted(gaps, reverse=True)
    assert all(ramp.arrivals_until(t) == pytest.approx(n, abs=1e-6)
               for n, t in enumerate(times))


@pytest.mark.parametrize("text", ["", "0:5", "1:5,10:5", "0:5,10:-1", "0:5,a:5", "0:5,10"])
def test_arrival_curve_refuses_what_is_not_one(text: str) -> None:
    with pytest.raises(ValueError):
        ArrivalCurve.parse(text)
