"""What a sweep found, from its files alone: each step's throughput, latency and SLOs, whether
the generator limited it, the knee (the highest rate with every SLO met), the first SLO to
break and at which rate, what saturated meanwhile, and the headroom against the plan's peak.

A step's SLOs use the catalog's objective and threshold over the step's window (settling
seconds left out); in the open model its latency counts from each action's intended start.
"""

from dataclasses import asdict, dataclass, field

from chaoslib_edx.capacity.plan import Generator, ProjectedPeak, Step
from chaoslib_edx.load.recorder import percentiles
from chaoslib_edx.load.series import Series
from chaoslib_edx.load.workers import WorkerEvent
from chaoslib_edx.slo.catalog import Slo
from chaoslib_edx.slo.evaluator import evaluate

HOST_SATURATED = 90.0  # host CPU %: past it, the machine itself is the bottleneck
CPU_BOUND = 0.8  # a component using this share of the CPU its processes can use


@dataclass
class StepResult:
    index: int
    rate: float                  # target arrivals/s
    start: int                   # epoch seconds of the evaluated window
    end: int
    due: int
    waited: int                  # found the pool busy: the platform's slowness
    late: int                    # a session free, yet started late: the generator lagged
    dropped: int                 # the backlog was full: never sent
    arrivals_per_s: float        # arrivals that started (due - dropped) per second
    requests_per_s: float
    p50_ms: float | None         # from the intended start (open model)
    p99_ms: float | None
    service_p99_ms: float | None  # the service time alone
    slos: dict[str, dict]        # name -> {"met": bool | None, "value": float | None}
    broken: list[str]            # SLOs missed in this step
    generator_cpu: float | None  # % of one core, the busiest Locust process (window mean)
    generator_bound: list[str]   # why the generator, not the platform, limited the step
    host_cpu: float | None
    components: dict[str, dict] = field(default_factory=dict)  # name -> cpu, rss, util
    load_changed: list[str] = field(default_factory=list)  # workers joined, left, refused

    @property
    def no_data(self) -> list[str]:
        """SLOs with no request in the step's window: neither met nor missed."""
        return [name for name, r in self.slos.items() if r["met"] is None]

    @property
    def clean(self) -> bool:
        """Judged, and met, on load the generator sent as planned: a knee may be here."""
        return not self.broken and not self.disturbed and not self.no_data

    @property
    def disturbed(self) -> bool:
        """The load itself was not as planned: the generator lagged, or its workers changed."""
        return bool(self.generator_bound or self.load_changed)


def first_arrival(series: Series) -> int | None:
    """The second the sweep's first arrival was due: where its schedule starts."""
    due = [t for t, s in series.seconds.items() if s.arrivals and s.arrivals["due"]]
    return min(due) if due else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _saturation(samples: list[dict], start: int, end: int, cpus: int
                ) -> tuple[dict[str, dict], float | None]:
    """Per component over [start, end): mean CPU (% of one core), RSS and utilisation (CPU
    over what its processes can use: one core each, at most the host's), and host CPU."""
    inside = [s for s in samples if start <= s["t"] < end]
    components: dict[str, dict] = {}
    for name in sorted({n for s in inside for n in s["components"]}):
        rows = [s["components"][name] for s in inside if name in s["components"]]
        cpu = _mean([r["cpu"] for r in rows]) or 0.0
        procs = max((r["processes"] for r in rows), default=1) or 1
        components[name] = {"cpu": round(cpu, 1),
                            "max_cpu": round(_mean([r.get("max_cpu", r["cpu"] / max(
                                1, r["processes"])) for r in rows]) or 0.0, 1),
                            "rss_mib": round(_mean([r["rss_mib"] for r in rows]) or 0, 1),
                            "processes": procs,
                            "utilisation": round(cpu / (100 * min(procs, cpus)), 3)}
    return components, _mean([s["host_cpu"] for s in inside])


def _busiest_worker(workers: list[WorkerEvent], start: int, end: int) -> float | None:
    """The highest mean CPU a worker reported for itself over [start, end)."""
    readings: dict[str, list[float]] = {}
    for event in workers:
        if event.event == "cpu" and event.cpu is not None and start <= event.t < end:
            readings.setdefault(event.worker, []).append(event.cpu)
    return max((sum(v) / len(v) for v in readings.values()), default=None)


def step_result(step: Step, t0: int, series: Series, slos: list[Slo], samples: list[dict],
                generator: Generator, workers: list[WorkerEvent] = ()) -> StepResult:
    """STEP's figures and verdict from its seconds of SERIES (the schedule starting at T0),
    the saturation SAMPLES and the master's WORKERS events (joins, losses, refusals and
    the CPU each worker measured itself)."""
    lo, hi = step.window
    start, end = t0 + int(round(lo)), t0 + int(round(hi))
    stats = series.window(start, end)
    arrivals = series.arrivals(start, end)
    seconds = max(1, end - start)
    latency = percentiles(stats.hist, (50, 99)) if stats.count else {}
    service = percentiles(stats.service_hist, (99,)) if stats.count else {}
    results: dict[str, dict] = {}
    for slo in slos:
        r = evaluate(slo, series, start, end)
        results[slo.name] = {"met": r.met if r.total else None, "value": r.value,
                             "events": r.total}
    cpus = max((s.get("cpus", 1) for s in samples), default=1)
    components, host = _saturation(samples, start, end, cpus)
    gen = components.get("generator")
    # The busiest generator process, here or on another host: the mean hides the one
    # that lags (an idle master among busy workers).
    gen_cpu = max((c for c in (gen["max_cpu"] if gen else None,
                               _busiest_worker(workers, start, end)) if c is not None),
                  default=None)
    changed = [f"worker {e.worker} {e.event} {e.t - start:.0f} s into the step"
               for e in workers if e.event in ("joined", "left", "refused")
               and start <= e.t < end]
    why = []
    if gen_cpu is not None and gen_cpu > generator.max_cpu * 100:
        why.append(f"generator CPU {gen_cpu:.0f}% of a core > {generator.max_cpu:.0%}")
    if arrivals["due"] and (arrivals["late"] + arrivals["dropped"]) / arrivals["due"] \
            > generator.max_late:
        share = (arrivals["late"] + arrivals["dropped"]) / arrivals["due"]
        why.append(f"{share:.1%} of arrivals late (the generator lagged) or dropped (the "
                   f"pool overflowed) > {generator.max_late:.0%}")
    return StepResult(
        step.index, step.rate, start, end, arrivals["due"], arrivals["waited"],
        arrivals["late"], arrivals["dropped"],
        round((arrivals["due"] - arrivals["dropped"]) / seconds, 2),
        round(stats.count / seconds, 2),
        latency[50] / 1000 if latency else None, latency[99] / 1000 if latency else None,
        service[99] / 1000 if service else None, results,
        [name for name, r in results.items() if r["met"] is False], gen_cpu, why, host,
        components, changed)


def complete_steps(series: Series, steps: list[Step]) -> tuple[int | None, list[Step]]:
    """The schedule's start and the steps whose window the metrics cover entirely."""
    t0 = first_arrival(series)
    if t0 is None or series.last is None:
        return t0, []
    return t0, [s for s in steps if t0 + s.window[1] <= series.last + 1]  # [start, end)


def saturated(step: StepResult) -> dict | None:
    """What saturated in STEP: the host's CPU when it is nearly all used (the platform's
    processes and the generator share it), else the most utilised platform component;
    with the platform's heaviest process group either way."""
    ranked = sorted(((name, c) for name, c in step.components.items() if name != "generator"),
                    key=lambda item: item[1]["utilisation"], reverse=True)
    if not ranked:
        return None
    name, values = ranked[0]
    host = step.host_cpu
    host_saturated = host is not None and host >= HOST_SATURATED
    return {"component": "host CPU" if host_saturated else name, "top_process_group": name,
            **values, "host_cpu": host, "host_saturated": host_saturated,
            "cpu_bound": host_saturated or values["utilisation"] >= CPU_BOUND}


def verdict(results: list[StepResult]) -> dict:
    """The knee, the first platform break, and the generator's part, of one sweep."""
    knee = first_break = None
    generator_breaks = []
    for result in results:
        if result.broken and result.disturbed:  # the load's doing as much as the platform's
            generator_breaks.append(result.rate)
            continue
        if result.broken:
            first_break = result
            break
        if result.clean and (knee is None or result.rate > knee.rate):
            knee = result
    return {
        "knee_rate": knee.rate if knee else None,
        "knee_requests_per_s": knee.requests_per_s if knee else None,
        "first_break": None if first_break is None else {
            "rate": first_break.rate, "step": first_break.index, "slos": first_break.broken,
            "values": {n: first_break.slos[n]["value"] for n in first_break.broken},
            "saturated": saturated(first_break)},
        "generator_bound_rates": [r.rate for r in results if r.generator_bound],
        "load_changed_rates": [r.rate for r in results if r.load_changed],
        "generator_bound_breaks": generator_breaks,  # breaks under a generator lag or change
        "highest_clean_rate": max((r.rate for r in results if r.clean), default=None),
    }


def headroom(found: dict, peak: ProjectedPeak) -> dict:
    """The sweep's knee against the projected peak: "2.5x last term's peak: holds"."""
    target = peak.target
    knee = found["knee_rate"]
    brk = found["first_break"]
    holds = knee is not None and knee >= target
    if holds:
        text = f"{peak.growth:g}x {peak.label}: holds (knee {knee / peak.rate:.2f}x)"
    elif brk is not None:
        text = f"{peak.growth:g}x {peak.label}: breaks at {brk['rate'] / peak.rate:.2f}x"
    else:
        top = found["highest_clean_rate"]
        text = (f"{peak.growth:g}x {peak.label}: not shown (the sweep held only up to "
                f"{(top or 0) / peak.rate:.2f}x, limited by the generator or the plan)")
    return {"target_rate": target, "holds": holds,
            "knee_multiple": None if knee is None else round(knee / peak.rate, 3),
            "break_multiple": None if brk is None else round(brk["rate"] / peak.rate, 3),
            "text": text}


def as_dicts(results: list[StepResult], top: int = 4) -> list[dict]:
    """Steps as JSON, each with its TOP components by CPU."""
    return [{**asdict(r), "clean": r.clean, "no_data": r.no_data, "disturbed": r.disturbed,
             "top_components": sorted(r.components.items(), key=lambda item: -item[1]["cpu"])
             [:top]} for r in results]


def step_line(name: str, r: StepResult) -> str:
    """One step's result as the line a sweep prints."""
    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0f} ms"

    state = ("SLO broken: " + ", ".join(r.broken)) if r.broken else \
        ("NO DATA (no requests): " + ", ".join(r.no_data)) if r.no_data else "SLOs met"
    gen = f"; GENERATOR-BOUND ({'; '.join(r.generator_bound)})" if r.generator_bound else ""
    gen += f"; LOAD CHANGED ({'; '.join(r.load_changed)})" if r.load_changed else ""
    cpu = "n/a" if r.generator_cpu is None else f"{r.generator_cpu:.0f}%"
    return (f"{name}: step {r.index + 1} at {r.rate:g}/s: {r.requests_per_s:.0f} req/s, p99 "
            f"{ms(r.p99_ms)} (service {ms(r.service_p99_ms)}), waited/late/dropped "
            f"{r.waited}/{r.late}/{r.dropped} of {r.due}, generator CPU {cpu}: {state}{gen}")
