"""Which alerts belong to which fault, and the times to detect, page and acknowledge.

An alert belongs to an experiment when it starts firing between that fault going live
and the end of its observation window, and was not already firing when the fault went
live; one still firing from an earlier fault is listed as carried over, not counted
again. Times are seconds after the fault went live; None when it never happened.
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


@dataclass
class Detection:
    experiment: str
    alerts: list[str] = field(default_factory=list)
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


def _label(firing: Firing) -> str:
    return f"{firing.alert} ({firing.severity})"


def attribute(spans: list[Observed], firings: list[Firing], pages: list[Page],
              run_end: float, auto_ack_after_s: float | None = None) -> list[Detection]:
    """A Detection per span (see the module docstring). AUTO_ACK_AFTER_S simulates the
    on-call acknowledging each page that long after it came, unless the run ended first."""
    results = []
    for span in spans:
        row = Detection(span.experiment)
        mine = [f for f in firings if span.live <= f.start < span.until]
        row.carried_over = sorted({_label(f) for f in firings
                                   if f.start < span.live <= f.end})
        row.alerts = sorted({_label(f) for f in mine})
        row.runbooks = sorted({f.runbook_url for f in mine if f.runbook_url})
        if mine:
            first = min(mine, key=lambda f: f.start)
            row.detect_s, row.slo = round(first.start - span.live, 3), first.slo
        caught = {(f.alert, f.slo) for f in mine}
        paged = sorted((p for p in pages if (p.alert, p.slo) in caught
                        and span.live <= p.received <= run_end), key=lambda p: p.received)
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
