"""A capacity run's report, from its directory alone: capacity.json (per sweep its steps,
knee, first SLO to break, saturated component and headroom), index.html with the
throughput-latency curves and each knee marked, capacity.md and junit.xml."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from markupsafe import Markup

from chaoslib_edx.capacity import PLAN_COPY, RUN_FILE, SWEEP_FILE, analysis
from chaoslib_edx.capacity.plan import Plan, Step
from chaoslib_edx.capacity.saturation import read_samples
from chaoslib_edx.load.workers import worker_events
from chaoslib_edx.environment import read_yaml
from chaoslib_edx.errors import UserError
from chaoslib_edx.load.series import Series
from chaoslib_edx.report.charts import plt, to_svg
from chaoslib_edx.report.render import _TEMPLATES
from chaoslib_edx.report.rundir import CATALOG_COPY, read_comparison
from chaoslib_edx.slo.catalog import load_catalog


def is_capacity_run(run_dir: Path | str) -> bool:
    return (Path(run_dir) / RUN_FILE).is_file()


def summarize(run_dir: Path | str) -> dict:
    """Everything the report shows, as capacity.json holds it."""
    run_dir = Path(run_dir)
    if not is_capacity_run(run_dir):
        raise UserError("not a capacity run directory (it has no capacity-run.json)",
                        file=run_dir)
    info = json.loads((run_dir / RUN_FILE).read_text())
    spec = Plan.model_validate(read_yaml(run_dir / PLAN_COPY))
    catalog = load_catalog(run_dir / CATALOG_COPY)
    slos = [catalog.get(name) for name in spec.slos]
    sweeps = []
    for name in info["sweeps"]:
        folder = run_dir / name
        meta_file = folder / SWEEP_FILE
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else \
            {"name": name, "steps": [], "hold": None, "stopped": "the run ended mid-sweep"}
        series = Series(folder / "metrics.jsonl").refresh()
        steps = [Step(**s) for s in meta["steps"]]
        t0, done = analysis.complete_steps(series, steps)
        samples = read_samples(folder / "saturation.jsonl")
        workers = worker_events(folder)
        results = [analysis.step_result(s, t0, series, slos, samples, spec.generator, workers)
                   for s in done]
        found = analysis.verdict(results)
        platform_file = folder / "platform-series.json"
        sweeps.append({
            "name": name, "hold": meta.get("hold"), "stopped": meta.get("stopped"),
            "rollbacks": meta.get("rollbacks", []), **found,
            "headroom": analysis.headroom(found, spec.projected_peak),
            "steps": analysis.as_dicts(results),
            "platform_series": _step_means(
                json.loads(platform_file.read_text()) if platform_file.exists() else {},
                results),
            "platform_series_error": meta.get("platform_series_error")})
    normal = next((s for s in sweeps if s["name"] == "normal"), None)
    return {"name": spec.name, "description": spec.description, "status": info["status"],
            "environment": info["environment"], "error": info.get("error"),
            "interrupted_by": info.get("interrupted_by"),
            "pending_rollbacks": info.get("pending_rollbacks", []),
            "budget_gate": info.get("budget_gate"),
            "slos": [{"name": s.name, "title": s.title} for s in slos],
            "projected_peak": {**spec.projected_peak.model_dump(),
                               "target": spec.projected_peak.target},
            "generator": spec.generator.model_dump(),
            "headroom": normal["headroom"] if normal else None,
            "latency_basis": "intended start (open model: coordinated omission corrected)",
            "sweeps": sweeps}


def _step_means(series: dict[str, list[list[float]]], results: list) -> dict[str, list]:
    """Each platform series averaged over each step's window (None: no sample in it)."""
    means = {}
    for name, points in series.items():
        row = []
        for r in results:
            inside = [v for t, v in points if r.start <= t < r.end]
            row.append(round(sum(inside) / len(inside), 2) if inside else None)
        means[name] = row
    return means


def _chart(summary: dict) -> str:
    """Throughput against p99 latency, one line per sweep, each knee and break marked."""
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.set_title("Throughput and latency per step (p99 from the intended start; dashed: "
                 "service time)", loc="left", fontsize=10)
    ax.set_xlabel("requests per second")
    ax.set_ylabel("p99 latency (ms)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    for index, sweep in enumerate(summary["sweeps"]):
        colour = f"C{index}"
        steps = [s for s in sweep["steps"] if s["p99_ms"]]
        x = [s["requests_per_s"] for s in steps]
        ax.plot(x, [s["p99_ms"] for s in steps], marker="o", color=colour,
                label=sweep["name"], linewidth=1)
        ax.plot(x, [s["service_p99_ms"] for s in steps], linestyle="--", color=colour,
                linewidth=0.8)
        for s in steps:
            if s["disturbed"]:  # generator-bound, or its workers changed
                ax.plot(s["requests_per_s"], s["p99_ms"], marker="x", color="black",
                        markersize=9)
            if sweep["knee_rate"] is not None and s["rate"] == sweep["knee_rate"]:
                ax.annotate(f"knee {s['rate']:g}/s", (s["requests_per_s"], s["p99_ms"]),
                            textcoords="offset points", xytext=(0, 10), color=colour,
                            fontsize=8, ha="center")
            if sweep["first_break"] and s["index"] == sweep["first_break"]["step"]:
                ax.annotate("break", (s["requests_per_s"], s["p99_ms"]), color="tab:red",
                            textcoords="offset points", xytext=(0, -14), fontsize=8,
                            ha="center")
    ax.legend(loc="upper left", fontsize=8)
    return to_svg(fig, "capacity")


def write_summary(run_dir: Path | str, out: Path | str | None = None) -> dict:
    """capacity.json alone, into OUT (default: the run directory): what the history
    records."""
    summary = summarize(run_dir)
    summary["comparison"] = read_comparison(Path(run_dir))
    target = Path(out or run_dir)
    target.mkdir(parents=True, exist_ok=True)
    (target / "capacity.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def render(run_dir: Path | str, out: Path | str | None = None) -> dict:
    """Write the report files into OUT (default: the run directory); the summary."""
    summary = write_summary(run_dir, out)
    target = Path(out or run_dir)
    (target / "index.html").write_text(_TEMPLATES.get_template("capacity.html.j2").render(
        s=summary, chart=Markup(_chart(summary))))  # our own SVG
    (target / "capacity.md").write_text(
        _TEMPLATES.get_template("capacity.md.j2").render(s=summary))
    _junit(summary, target / "junit.xml")
    return summary


def _junit(summary: dict, path: Path) -> None:
    """Per sweep: its knee against the projected peak; and the rollbacks (none pending)."""
    suite = ET.Element("testsuite", name=f"capacity {summary['name']}")
    failures = 0
    for sweep in summary["sweeps"]:
        case = ET.SubElement(suite, "testcase", classname="capacity", name=sweep["name"])
        if not sweep["headroom"]["holds"]:
            failures += 1
            ET.SubElement(case, "failure", message=sweep["headroom"]["text"])
    case = ET.SubElement(suite, "testcase", classname="recovery", name="rollbacks")
    if summary["pending_rollbacks"]:
        failures += 1
        ET.SubElement(case, "failure", message="rollbacks still pending: "
                      + ", ".join(summary["pending_rollbacks"]))
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
