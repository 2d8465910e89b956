"""A sweep's verdict from its files: knee, first break, generator-bound steps, saturation."""

import io
from pathlib import Path

import pytest

from chaoslib_edx.capacity import analysis
from chaoslib_edx.capacity.plan import Generator, ProjectedPeak, Step
from chaoslib_edx.load.recorder import Recorder, write_lines
from chaoslib_edx.load.series import Series
from chaoslib_edx.load.workers import WorkerEvent
from chaoslib_edx.slo.catalog import load_catalog

T0 = 1_800_000_000
STEPS = [Step(i, i * 10, (i + 1) * 10, rate, 2) for i, rate in enumerate((100, 200, 300, 400))]


def _sweep(tmp_path: Path, latency_ms: dict[int, float], late: dict[int, int],
           silent: tuple[int, ...] = ()) -> Series:
    """Per second of each step: RATE/10 api requests of its latency (from the intended
    start; none in the SILENT steps), arrivals due at the step's rate and LATE of them
    late."""
    now = [0.0]
    recorder = Recorder(clock=lambda: now[0])
    for step in STEPS:
        for second in range(int(step.start_s), int(step.end_s)):
            now[0] = T0 + second + 0.5
            for n in range(0 if step.index in silent else int(step.rate // 10)):
                recorder.record("api: completion", 5.0, False, 200,
                                intended_ms=latency_ms.get(step.index, 5.0))
            for n in range(int(step.rate)):
                recorder.arrival(now[0], "due")
            for n in range(late.get(step.index, 0)):
                recorder.arrival(now[0], "late")
    out = io.StringIO()
    buckets, arrivals = recorder.take(), recorder.take_arrivals()
    for second in arrivals:  # as the plugin writes them: a second of arrivals alone too
        buckets.setdefault(second, {})
    write_lines(out, dict(sorted(buckets.items())), {}, arrivals)
    path = tmp_path / "metrics.jsonl"
    path.write_text(out.getvalue())
    return Series(path).refresh()


def _samples(generator_cpu: dict[int, float], host: float = 50.0) -> list[dict]:
    return [{"t": T0 + s, "host_cpu": host, "cpus": 2, "components": {
        "lms": {"cpu": 20.0 + s, "rss_mib": 200, "processes": 3},
        "db-a": {"cpu": 5.0, "rss_mib": 90, "processes": 1},
        "generator": {"cpu": generator_cpu.get(s // 10, 30.0), "rss_mib": 80, "processes": 1}}}
        for s in range(40)]


def _results(series: Series, samples: list[dict]) -> list[analysis.StepResult]:
    slos = [load_catalog().get("api-latency")]
    t0, done = analysis.complete_steps(series, STEPS)
    assert t0 == T0
    return [analysis.step_result(s, t0, series, slos, samples, Generator()) for s in done]


def test_knee_first_break_and_a_generator_bound_step_that_is_never_the_knee(
        tmp_path: Path) -> None:
    series = _sweep(tmp_path, latency_ms={3: 900.0}, late={})
    results = _results(series, _samples(generator_cpu={2: 95.0}))
    assert [r.generator_bound != [] for r in results] == [False, False, True, False]
    assert "generator CPU 95%" in results[2].generator_bound[0]
    assert results[3].broken == ["api-latency"]
    assert results[3].p99_ms == pytest.approx(900, rel=0.01)
    assert results[3].service_p99_ms == pytest.approx(5, rel=0.01)
    found = analysis.verdict(results)
    assert found["knee_rate"] == 200  # step 2 (300/s) met its SLOs, but measured the generator
    assert found["first_break"]["rate"] == 400
    assert found["first_break"]["slos"] == ["api-latency"]
    assert found["first_break"]["saturated"]["component"] == "lms"
    assert found["first_break"]["saturated"]["host_saturated"] is False
    assert found["generator_bound_rates"] == [300]
    room = analysis.headroom(found, ProjectedPeak(rate=100, growth=2.5))
    assert room["holds"] is False and room["text"] == \
        "2.5x last term's peak: breaks at 4.00x"
    assert analysis.headroom(found, ProjectedPeak(rate=50, growth=2))["holds"] is True


def test_a_break_while_arrivals_ran_late_is_the_generators_not_the_platforms(
        tmp_path: Path) -> None:
    series = _sweep(tmp_path, latency_ms={2: 900.0, 3: 900.0}, late={2: 10})
    results = _results(series, _samples(generator_cpu={}, host=97.0))
    assert "late" in results[2].generator_bound[0]
    found = analysis.verdict(results)
    assert found["generator_bound_breaks"] == [300]
    assert found["first_break"]["rate"] == 400  # the first break with arrivals on time
    assert found["knee_rate"] == 200
    saturated = found["first_break"]["saturated"]
    assert saturated["component"] == "host CPU" and saturated["top_process_group"] == "lms"


def test_steps_the_metrics_do_not_cover_yet_are_left_out(tmp_path: Path) -> None:
    series = _sweep(tmp_path, latency_ms={}, late={})
    longer = STEPS + [Step(4, 40, 50, 500, 2)]
    assert len(analysis.complete_steps(series, longer)[1]) == 4


def test_a_step_without_requests_is_no_data_and_never_the_knee(tmp_path: Path) -> None:
    """The load stopped in the last step (arrivals came due, no request completed): its
    SLOs are neither met nor missed, and the knee stays with the last judged step."""
    series = _sweep(tmp_path, latency_ms={}, late={}, silent=(3,))
    results = _results(series, _samples(generator_cpu={}))
    assert results[3].no_data == ["api-latency"] and not results[3].broken
    assert results[3].slos["api-latency"]["met"] is None and not results[3].clean
    found = analysis.verdict(results)
    assert found["knee_rate"] == 300 and found["first_break"] is None
    assert "NO DATA (no requests): api-latency" in analysis.step_line("normal", results[3])


def test_a_step_whose_workers_changed_is_flagged_and_never_the_knee(tmp_path: Path) -> None:
    """A worker joined 4 s into the third step (the master's log says when): that step's
    load was not the plan's, so it is no knee even though its SLOs were met."""
    series = _sweep(tmp_path, latency_ms={}, late={})
    joined = WorkerEvent(T0 + 24, "joined", "w3", 3)
    slos = [load_catalog().get("api-latency")]
    t0, done = analysis.complete_steps(series, STEPS)
    results = [analysis.step_result(s, t0, series, slos, _samples({}), Generator(), [joined])
               for s in done]
    assert [bool(r.load_changed) for r in results] == [False, False, True, False]
    assert results[2].load_changed == ["worker w3 joined 2 s into the step"]
    assert not results[2].clean and results[2].broken == []
    found = analysis.verdict(results)
    assert found["knee_rate"] == 400 and found["load_changed_rates"] == [300]
    assert "LOAD CHANGED (worker w3 joined" in analysis.step_line("normal", results[2])


def test_the_busiest_generator_decides_even_on_another_host(tmp_path: Path) -> None:
    """Local Locust processes idle, a remote worker at 95% of a core in step 2 (what it
    measured in itself): the step is generator-bound, not averaged away."""
    series = _sweep(tmp_path, latency_ms={}, late={})
    busy = [WorkerEvent(T0 + s, "cpu", "w1", 2, cpu=95.0) for s in range(10, 20)]
    calm = [WorkerEvent(T0 + s, "cpu", "w2", 2, cpu=10.0) for s in range(40)]
    slos = [load_catalog().get("api-latency")]
    t0, done = analysis.complete_steps(series, STEPS)
    results = [analysis.step_result(s, t0, series, slos, _samples({}), Generator(),
                                    busy + calm) for s in done]
    assert results[1].generator_cpu == pytest.approx(95.0)
    assert "generator CPU 95%" in results[1].generator_bound[0]
    assert results[0].generator_bound == [] and results[0].generator_cpu == 30.0
