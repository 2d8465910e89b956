"""What the console shows, kept from the runner's own data as it happens: the timeline's
events (each one the run writes), the SLO watcher's readings every second, the alerts and
pages the monitoring reports. Each change is one message, encoded once and queued to
every viewer's stream; a viewer too slow to keep up is dropped, never waited for."""

import functools
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaoslib_edx.gameday.schema import BurnRateAbort, Loaded

VIEWER_QUEUE = 200   # messages a viewer may fall behind before it is dropped
RECENT_EVENTS = 200  # timeline events a new viewer gets
# Events that change the steps' state; every other timeline event is shown as it comes.
_STEP_STATE = {"experiment_start": "starting", "fault_start": "live",
               "rollback_start": "rolling back", "fault_end": "rolled back",
               "experiment_end": "done"}
CLOSED = b""  # the message that ends a viewer's stream


def _counted(method: Callable[..., Any]) -> Callable[..., Any]:
    """Add the CPU time METHOD takes, in whichever thread calls it, to the console's
    own (Live.cpu_s): what the console costs the runner."""
    @functools.wraps(method)
    def counted(self: "Live", *args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return method(self, *args, **kwargs)
        finally:
            spent = time.thread_time() - started
            with self._cpu_lock:
                self.cpu_s += spent
    return counted


def _abort_title(cond: object, index: int) -> str:
    if isinstance(cond, BurnRateAbort):
        rule = f"rule '{cond.rule}'" if cond.rule else \
            f"over {cond.window_seconds} s above {cond.burn_rate_above:g}x"
        return f"{index}: {cond.slo} burns its budget ({rule})"
    return f"{index}: probe {getattr(cond, 'probe', {}).get('provider', {}).get('func', '?')}"


class Live:
    def __init__(self, gameday: Loaded, run: dict) -> None:
        spec = gameday.spec
        self._lock = threading.Lock()
        self._cpu_lock = threading.Lock()
        self.cpu_s = 0.0  # CPU time of the runner's threads spent keeping the console
        self._viewers: set[queue.Queue] = set()
        self._seq = 0
        self.ended = False
        self.run = {"name": spec.name, "environment": run.get("environment"),
                    "run_id": run.get("run_id"), "status": "running", "phase": "preflight",
                    "max_duration_s": spec.max_duration_s, "load_started": None,
                    "timeline_started": None, "abort_reason": None}
        self.steps = [{"name": Path(step.experiment).stem, "offset_s": step.offset_s,
                       "observe_s": step.observe_s, "state": "to come", "due": None,
                       "fault_start": None, "fault_end": None}
                      for step in spec.timeline]
        self.slos = [{"name": name, "title": slo.title, "type": slo.indicator.type,
                      "objective": slo.objective, "threshold_ms": slo.indicator.threshold_ms,
                      "value": None, "met": None, "burn_rate": None, "budget_burned": None}
                     for name in spec.slos for slo in [gameday.catalog.get(name)]]
        self.aborts = [{"index": i, "title": _abort_title(cond, i),
                        "kind": "burn rate" if isinstance(cond, BurnRateAbort) else "probe",
                        "reading": None} for i, cond in enumerate(spec.abort)]
        self.hold = {"held": False, "since": None, "by": None, "total_s": 0.0}
        self.rate = 0.0
        self.generators = {"workers": None, "joined": 0, "lost": 0, "refused": 0}
        self.monitoring: dict = {"source": None, "error": None, "alerts": [], "pages": []}
        self.series: list[dict] = []  # one point a second: t and each SLO's value
        self.notes: list[dict] = []
        self.events: deque[dict] = deque(maxlen=RECENT_EVENTS)

    # -- what the runner reports -------------------------------------------------------

    @_counted
    def event(self, event: dict) -> None:
        """A timeline event, as the run wrote it (a JSON copy: the viewers get text)."""
        event = json.loads(json.dumps(event, default=str))
        name, kind = event.get("experiment"), event["event"]
        with self._lock:
            self.events.append(event)
            if kind == "note":
                self.notes.append(event)
            elif kind == "load_start":
                self.run["load_started"] = event["t"]
            elif kind == "timeline_start":  # the warm-up ended: the offsets count from here
                self.run["timeline_started"] = event["t"]
            elif kind in ("worker_joined", "worker_left", "worker_refused"):
                field = {"worker_joined": "joined", "worker_left": "lost",
                         "worker_refused": "refused"}[kind]
                self.generators[field] += 1
                self.generators["workers"] = event.get("workers")
            elif kind == "abort":
                self.run["abort_reason"] = event.get("reason")
            for step in self.steps:
                if step["name"] == name and kind in _STEP_STATE:
                    step["state"], step["due"] = _STEP_STATE[kind], None
                    if kind in ("fault_start", "fault_end"):
                        step[kind] = event["t"]
        self._publish("event", event["t"], event=event)

    @_counted
    def tick(self, phase: str, current: dict[str, dict], rate: float,
             readings: dict[int, dict], held_s: float, hold: dict) -> None:
        """Once a second: the phase, the watcher's SLO readings and abort readings, the
        hold and, for the steps still to come, when each is due (held time included)."""
        now = time.time()
        with self._lock:
            self.run["phase"], self.rate = phase, rate
            for slo in self.slos:
                slo.update({k: current.get(slo["name"], {}).get(k)
                            for k in ("value", "met", "burn_rate", "budget_burned")})
            for cond in self.aborts:
                cond["reading"] = readings.get(cond["index"])
            self.hold = {**hold, "total_s": held_s}
            begun = self.run["timeline_started"]
            for step in self.steps:
                step["due"] = None if begun is None or step["state"] != "to come" else \
                    begun + step["offset_s"] + held_s
            point = {"t": now, **{slo["name"]: slo["value"] for slo in self.slos}}
            if current:
                self.series.append(point)
        self._publish("tick", now, point=point if current else None)

    def monitor(self, source: str | None, alerts: list[dict], pages: list[dict],
                error: str | None = None) -> None:
        """What the monitoring says now: alerts firing and pages (with their acks). Its
        CPU is counted by the Monitor's thread, which calls it."""
        with self._lock:
            self.monitoring = {"source": source, "error": error, "alerts": alerts,
                               "pages": pages}
        self._publish("tick", time.time())

    def end(self, status: str) -> None:
        """The run ended: a last message, then every stream closes."""
        with self._lock:
            self.run["status"], self.ended = status, True
        self._publish("end", time.time())
        with self._lock:
            for viewer in self._viewers:
                _offer(viewer, CLOSED)

    # -- what viewers read -------------------------------------------------------------

    def _live(self) -> dict:
        """Everything but the growing lists (series, notes, events)."""
        return {"run": dict(self.run), "now": time.time(), "rate": self.rate,
                "steps": [dict(s) for s in self.steps], "slos": [dict(s) for s in self.slos],
                "aborts": [dict(a) for a in self.aborts], "hold": dict(self.hold),
                "generators": dict(self.generators), "monitoring": dict(self.monitoring)}

    def snapshot(self) -> dict:
        """The whole state, for GET /api/state and a new stream's first message."""
        with self._lock:
            return {**self._live(), "seq": self._seq, "series": list(self.series),
                    "notes": list(self.notes), "events": list(self.events)}

    def subscribe(self) -> queue.Queue:
        """A new viewer's queue of encoded messages (its first: the whole state)."""
        viewer: queue.Queue = queue.Queue(VIEWER_QUEUE)
        state = self.snapshot()
        viewer.put(_encode("state", state["seq"], {"t": state["now"], "state": state}))
        with self._lock:
            if self.ended:
                viewer.put(CLOSED)
            else:
                self._viewers.add(viewer)
        return viewer

    def unsubscribe(self, viewer: queue.Queue) -> None:
        with self._lock:
            self._viewers.discard(viewer)

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    def _publish(self, kind: str, origin: float, **extra: object) -> None:
        """One change to every viewer: T is when it happened in the runner (the page
        measures its delivery from it)."""
        with self._lock:
            self._seq += 1
            message = _encode(kind, self._seq, {"t": origin, "state": self._live(), **extra})
            for viewer in list(self._viewers):
                if not _offer(viewer, message):
                    self._viewers.discard(viewer)  # too slow: its stream ends
                    _offer(viewer, CLOSED, force=True)


def _encode(kind: str, seq: int, data: dict) -> bytes:
    """A server-sent event (one data line: JSON has no raw newlines)."""
    body = json.dumps({"kind": kind, "seq": seq, **data}, default=str)
    return f"id: {seq}\nevent: {kind}\ndata: {body}\n\n".encode()


def _offer(viewer: queue.Queue, message: bytes, force: bool = False) -> bool:
    """Queue MESSAGE without waiting; FORCE makes room for it (the closing message)."""
    try:
        viewer.put_nowait(message)
        return True
    except queue.Full:
        if force:
            try:
                viewer.get_nowait()
                viewer.put_nowait(message)
            except (queue.Empty, queue.Full):
                pass
        return False
