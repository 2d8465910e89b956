"""Capacity plans: the shipped one loads; every bad plan is refused naming file and field."""

from pathlib import Path

import pytest
import yaml

from chaoslib_edx.capacity.plan import Sweep, load_plan, schedule
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import SHIPPED

SHIPPED_PLAN = SHIPPED / "gamedays" / "capacity-enrollment-peak.yaml"
CURVE = SHIPPED / "loadprofiles" / "data" / "enrollment_peak.csv"


def _plan(tmp_path: Path, **changes: object) -> Path:
    spec = yaml.safe_load(SHIPPED_PLAN.read_text())
    spec["environment"] = str(SHIPPED / "gamedays" / "environments" / "sandbox.yaml")
    spec["slo_catalog"] = str(SHIPPED / "gamedays" / "slos.yaml")
    for dotted, value in changes.items():
        node = spec
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_shipped_plan_loads_and_fits_its_bound() -> None:
    loaded = load_plan(SHIPPED_PLAN)
    assert [s.rate for s in loaded.steps][:3] == [200, 300, 400]
    assert loaded.curve.duration_s <= loaded.spec.bounds.max_duration_s
    assert [s.name if s else "normal" for s in loaded.sweeps] == ["normal", "database-slow"]
    assert loaded.spec.projected_peak.target == pytest.approx(92.5)


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"sweep__start_rate": 0}, "sweep.start_rate", "greater than 0"),
    ({"sweep__step_rate": -1}, "sweep.step_rate", "greater than 0"),
    ({"sweep__kind": "ramp", "sweep__ramp_s": 900}, "sweep.ramp_s", "longer than"),
    ({"sweep__max_rate": 4000}, "sweep", "longer than"),
    ({"sweep__max_rate": 100000}, "sweep.max_rate", "less than or equal"),
    ({"slos": ["lms-availability", "nope"]}, "slos.1", "no SLO named 'nope'"),
    ({"degraded": [{"name": "x", "fault": "floods"}]}, "degraded.0.fault", "no fault kind"),
    ({"degraded": [{"name": "x", "fault": "database"}]}, "degraded.0.fault", "cannot be held"),
    ({"degraded": [{"name": "normal", "fault": "cache"}]}, "degraded.0.name", "another sweep"),
    ({"sweep__settle_s": 8}, "sweep", "settle_s"),
    ({"sweep__kind": "replay"}, "sweep", "needs 'curve'"),
    ({"projected_peak__rate": 0}, "projected_peak.rate", "greater than 0"),
    ({"generator__max_cpu": 1.5}, "generator.max_cpu", "less than or equal"),
    ({"sweeep": {}}, "sweeep", "unknown field"),
])
def test_bad_plans_are_refused_naming_file_and_field(tmp_path: Path, changes: dict,
                                                     field: str, words: str) -> None:
    path = _plan(tmp_path, **changes)
    with pytest.raises(UserError) as caught:
        load_plan(path)
    assert caught.value.file == str(path)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_replay_with_a_users_curve_is_refused_naming_its_line(tmp_path: Path) -> None:
    curve = tmp_path / "users.csv"
    curve.write_text("offset_s,users\n0,5\n60,9\n")
    path = _plan(tmp_path, sweep__kind="replay", sweep__curve=str(curve))
    with pytest.raises(UserError) as caught:
        load_plan(path)
    assert caught.value.field == "sweep.curve" and "line 1" in str(caught.value)


def test_steps_ramp_and_replay_schedules() -> None:
    curve, steps = schedule(Sweep(start_rate=10, step_rate=20, max_rate=50, step_s=5))
    assert [s.rate for s in steps] == [10, 30, 50]
    assert curve.arrivals_until(15) == 5 * (10 + 30 + 50)
    assert steps[1].window == (7, 10)  # settling seconds left out
    ramp, ramp_steps = schedule(Sweep(kind="ramp", start_rate=10, max_rate=70, ramp_s=30,
                                      step_s=10, settle_s=0))
    assert [round(s.rate) for s in ramp_steps] == [30, 50, 70]
    assert ramp.arrivals_until(30) == pytest.approx(30 * 40)
    replay, replay_steps = schedule(Sweep(kind="replay", curve=str(CURVE), time_scale=21600,
                                          scales=[1, 2]))
    assert replay.duration_s == pytest.approx(24)
    assert [s.rate for s in replay_steps] == [pytest.approx(46.35), pytest.approx(92.7)]
    # The second step is the curve at twice the rate: twice the arrivals.
    assert replay.arrivals_until(24) == pytest.approx(3 * replay.arrivals_until(12), rel=1e-6)


def test_a_degraded_sweep_names_any_holdable_fault_by_its_registry_kind(tmp_path: Path) -> None:
    path = _plan(tmp_path, degraded=[
        {"name": "one-replica-down", "fault": "pods", "arguments": {"count": 1}},
        {"name": "small-cache", "fault": "cache", "arguments": {"maxmemory": "8mb",
                                                               "fill_mb": 0}}])
    loaded = load_plan(path)
    assert [s.name for s in loaded.sweeps if s] == ["one-replica-down", "small-cache"]


def test_sweep_selection_keeps_the_plans_order_and_refuses_an_unknown_name() -> None:
    loaded = load_plan(SHIPPED_PLAN)
    loaded.only(("database-slow",))
    assert [s.name for s in loaded.sweeps] == ["database-slow"]
    loaded = load_plan(SHIPPED_PLAN)
    loaded.only(("database-slow", "normal"))
    assert [s.name if s else "normal" for s in loaded.sweeps] == ["normal", "database-slow"]
    with pytest.raises(UserError) as caught:
        load_plan(SHIPPED_PLAN).only(("normal", "nope"))
    assert caught.value.field == "--sweep" and "known: normal, database-slow" in str(caught.value)
