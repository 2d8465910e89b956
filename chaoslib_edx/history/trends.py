"""The history as a page (`edx-gameday history report`): per game day, each experiment's
time to detect and each SLO's budget burned over its runs; per capacity plan, each sweep's
knee; then the findings. matplotlib to inline SVG, as the run reports."""

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from chaoslib_edx.history.findings import lifecycle
from chaoslib_edx.report.charts import plt, to_svg

_TEMPLATES = Environment(loader=PackageLoader("chaoslib_edx.history", "templates"),
                         autoescape=select_autoescape(["html", "j2"]),
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _chart(title: str, ylabel: str, runs: list[dict], lines: dict[str, list]) -> Markup:
    """One line per name over the runs (x: the runs in order, labelled by their day); a
    missing value (undetected, no knee) is a gap, marked with an x on the axis."""
    fig, ax = plt.subplots(figsize=(10, 2.6))
    x = list(range(len(runs)))
    for name, values in lines.items():
        ax.plot(x, [v if v is not None else float("nan") for v in values], marker="o",
                label=name)
        missing = [i for i, v in enumerate(values) if v is None]
        ax.plot(missing, [0] * len(missing), "x", color="#b00020")
    ax.set_xticks(x, [(r["started"] or "?")[:10] for r in runs], fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    return Markup(to_svg(fig, title))  # our own SVG


def _series(group: list[dict]) -> dict:
    first = group[0]
    if first["kind"] == "capacity":
        sweeps = sorted({s["sweep"] for run in group for s in run["sweeps"]})
        return {"charts": [_chart("Knee by sweep", "arrivals/s", group, {
            sweep: [next((s["knee_rate"] for s in run["sweeps"] if s["sweep"] == sweep), None)
                    for run in group] for sweep in sweeps})]}
    experiments = sorted({e["experiment"] for run in group for e in run["experiments"]})
    slos = sorted({s["slo"] for run in group for s in run["slos"]})
    return {"charts": [
        _chart("Time to detect by experiment (x: not detected)", "seconds", group, {
            name: [next((e["detect_s"] for e in run["experiments"] if e["experiment"] == name),
                        None) for run in group] for name in experiments}),
        _chart("Budget burned over the run by SLO", "% of the period's budget", group, {
            name: [next((s["budget_burned"] * 100 for s in run["slos"] if s["slo"] == name
                         and s["budget_burned"] is not None), None) for run in group]
            for name in slos})]}


def render_trends(runs: list[dict], out: Path) -> Path:
    """Write OUT/index.html from RUNS (oldest first); its path."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["kind"], run["name"], run["environment"]), []).append(run)
    sections = [{"kind": kind, "name": name, "environment": environment, "runs": group,
                 "findings": lifecycle(group), **_series(group)}
                for (kind, name, environment), group in sorted(groups.items())]
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(_TEMPLATES.get_template("trends.html.j2").render(sections=sections))
    return page
