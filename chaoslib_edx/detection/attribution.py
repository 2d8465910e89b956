"""Which alerts belong to which fault, and the times to detect, page and acknowledge.

An alert belongs to an experiment when it starts firing between that fault going live
and the end of its observation window; one still firing from an earlier fault is listed
as carried over, not counted again. It detects the fault only when its SLO is one the
fault breached (or one the experiment expects alerts of): another SLO's alert in the
window is listed as unrelated. A page belongs to the firing it was sent for (the latest
of its alert and SLO begun by the time it came, a paging one where severities tell), so
a page is credited to a fault only when that firing began inside the fault's window.
Times are seconds after the fault went live; None when it never happened.
"""

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Firing:
    """One alert firing from START to END (epoch seconds), as the monitoring recorded it."""

    alert: str
    slo: str
    severity: str
    start: float
    end: float
    runbook_url: str = ""


@dataclass(frozen=True)
class Page:
    """A page the pager received for ALERT/SLO at RECEIVED; ACKED when someone took it."""

    alert: str
    slo: str
    dedup_key: str
    received: float
    acked: float | None = None
    acked_by: str | None = None


@dataclass(frozen=True)
class Observed:
    """One experiment's span: its fault live from LIVE, observed until UNTIL."""

    experiment: str
    live: float
    until: float


PAGE_SLACK_S = 2.0  # a page may be stamped this much before its firing (clocks, rounding)


@dataclass
class Detection:
    experiment: str
    alerts: list[str] = field(default_factory=list)
    unrelated: list[str] = field(default_factory=list)  # alerts of SLOs it did not breach
    slo: str | None = None  # the SLO of the first alert attributed: its mttd_s applies
    carried_over: list[str] = field(default_factory=list)
    detect_s: float | None = None
    page_s: float | None = None
    ack_s: float | None = None
    ack_simulated: bool = False
    acked_by: str | None = None
    runbooks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """SPANS as disjoint, sorted intervals."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _label(firing: Firing) -> str:
    return f"{firing.alert} ({firing.severity})"


def _firing_of(page: Page, firings: list[Firing]) -> Firing | None:
    """The firing PAGE was sent for: the latest of its alert and SLO begun by then."""
    begun = [f for f in firings if (f.alert, f.slo) == (page.alert, page.slo)
             and f.start <= page.received + PAGE_SLACK_S]
    paging = [f for f in begun if f.severity == "page"] or begun
    return max(paging, key=lambda f: f.start, default=None)


def attribute(spans: list[Observed], firings: list[Firing], pages: list[Page],
              run_end: float, auto_ack_after_s: float | None = None,
              counted: dict[str, set[str]] | None = None) -> list[Detection]:
    """A Detection per span (see the module docstring). COUNTED: per experiment, the SLOs
    whose alerts detect it (None: every SLO's). AUTO_ACK_AFTER_S simulates the on-call
    acknowledging each page that long after it came, unless the run ended first."""
    results = []
    for span in spans:
        row = Detection(span.experiment)
        began = [f for f in firings if span.live <= f.start < span.until]
        slos = None if counted is None else counted.get(span.experiment, set())
        mine = [f for f in began if slos is None or f.slo in slos]
        row.unrelated = sorted({_label(f) for f in began if f not in mine})
        row.carried_over = sorted({_label(f) for f in firings
                                   if f.start < span.live <= f.end})
        row.alerts = sorted({_label(f) for f in mine})
        row.runbooks = sorted({f.runbook_url for f in mine if f.runbook_url})
        if mine:
            first = min(mine, key=lambda f: f.start)
            row.detect_s, row.slo = round(first.start - span.live, 3), first.slo
        paged = sorted((p for p in pages if p.received <= run_end
                        and _firing_of(p, firings) in mine), key=lambda p: p.received)
        if paged:
            first = paged[0]
            row.page_s = round(first.received - span.live, 3)
            acked = [p for p in paged if p.acked is not None and p.acked <= run_end]
            if acked:
                taken = min(acked, key=lambda p: p.acked)
                row.ack_s, row.acked_by = round(taken.acked - span.live, 3), taken.acked_by
            elif auto_ack_after_s is not None \
                    and first.received + auto_ack_after_s <= run_end:
                row.ack_s = round(row.page_s + auto_ack_after_s, 3)
                row.ack_simulated, row.acked_by = True, "auto_ack_after_s"
        results.append(row)
    return results
