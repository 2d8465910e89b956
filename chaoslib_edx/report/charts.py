"""Charts of a run: requests/s, error rate and latency percentiles, per second, with each
fault's window shaded and labelled; rendered by matplotlib to inline SVG."""

import io

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from chaoslib_edx.load.recorder import percentiles  # noqa: E402
from chaoslib_edx.load.series import WindowStats  # noqa: E402
from chaoslib_edx.report.rundir import RunDir  # noqa: E402

MAX_POINTS = 600  # a longer run is drawn in steps of several seconds


def _points(run: RunDir) -> tuple[int, list[int], list[WindowStats]]:
    """(seconds per point, x of each point, the requests of each point)."""
    first, last = run.series.first, run.series.last
    if first is None:
        return 1, [], []
    step = max(1, -(-(last - first + 1) // MAX_POINTS))
    starts = range(first, last + 1, step)
    return step, [s - first for s in starts], [run.series.window(s, s + step) for s in starts]


def to_svg(fig: plt.Figure, name: str) -> str:
    """Inline SVG; the same run renders byte for byte the same (ids salted by chart name
    instead of random, so each chart's clip paths keep ids of their own)."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: drop the XML prolog and doctype


def _axes(run: RunDir, title: str, ylabel: str) -> tuple[plt.Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(10, 2.6))
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("seconds into the run")
    ax.grid(alpha=0.3)
    first = run.series.first or 0
    end_of_run = (run.series.last or first) - first + 1
    for window in run.fault_windows():
        start = window.start - first
        end = (window.end - first) if window.end is not None else end_of_run
        ax.axvspan(start, end, color="tab:red", alpha=0.15)
        ax.annotate(window.experiment, (start, 1.0), xycoords=("data", "axes fraction"),
                    fontsize=8, va="top", color="tab:red")
    return fig, ax


def charts(run: RunDir) -> dict[str, str]:
    """{"requests": svg, "errors": svg, "latency": svg}."""
    step, x, points = _points(run)
    per = "per second" if step == 1 else f"per second, {step} s steps"
    fig, ax = _axes(run, f"Requests per second ({per})", "req/s")
    ax.plot(x, [p.count / step for p in points], color="tab:blue", linewidth=1)
    requests = to_svg(fig, "requests")

    fig, ax = _axes(run, "Error rate (failed requests)", "% of requests")
    ax.plot(x, [100 * p.failures / p.count if p.count else 0 for p in points],
            color="tab:red", linewidth=1)
    ax.set_ylim(bottom=0)
    errors = to_svg(fig, "errors")

    fig, ax = _axes(run, "Latency percentiles", "ms")
    values = [percentiles(p.hist, (50, 95, 99)) if p.count else {} for p in points]
    for q, colour in ((50, "tab:green"), (95, "tab:orange"), (99, "tab:purple")):
        ax.plot(x, [v[q] / 1000 if v else None for v in values], label=f"p{q}",
                color=colour, linewidth=1)
    ax.legend(loc="upper right", fontsize=8)
    latency = to_svg(fig, "latency")
    return {"requests": requests, "errors": errors, "latency": latency}
