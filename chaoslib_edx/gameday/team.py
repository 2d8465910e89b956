"""What the team does to a running game day from its console: notes into the record,
acknowledgements through the pager (as `edx-gameday ack`), the game master's hold and
abort (the abort takes SIGTERM's path). Each is a timeline event naming the role and the
person."""

import time
from collections.abc import Callable
from pathlib import Path

from chaoslib_edx.console.live import Live
from chaoslib_edx.console.monitor import Monitor
from chaoslib_edx.console.server import ApiError, Console, Controls
from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.hold import Hold
from chaoslib_edx.gameday.progress import Progress
from chaoslib_edx.gameday.watch import Trip
from chaoslib_edx.platforms import Platform
from chaoslib_edx.report.rundir import RunWriter


class TeamActions:
    """Mixed into the game-day runner (it provides writer, progress, platform,
    request_abort and abort)."""

    writer: RunWriter
    progress: Progress
    platform: Platform
    abort: Trip | None
    request_abort: Callable[[Trip], None]

    def __init__(self) -> None:
        self.hold = Hold()
        self.live_fault: str | None = None  # the experiment whose fault is live now
        self.console: Console | None = None
        self.monitor: Monitor | None = None

    def controls(self) -> Controls:
        return Controls(note=self._note, ack=self._ack, hold=self._hold,
                        release=self._release, abort=self._abort)

    def open_console(self, live: Live, host: str, port: int, gameday: Path) -> None:
        """Listen on HOST:PORT (UserError naming GAMEDAY's field when it cannot) and print
        each role's URL: the tokens go to this terminal only, never to a file."""
        self.console = Console(live, self.controls())
        try:
            self.console.start(host, port)
        except OSError as exc:
            self.console = None
            raise UserError(f"the console cannot listen on {host}:{port}: {exc.strerror}",
                            file=gameday, field="console.port",
                            fix="Free the port or name another (console: {port: N})") from None
        self.progress.event(f"console on {host}:{self.console.port}; one URL per role "
                            "(keep them to the team):")
        for role, url in self.console.urls().items():
            self.progress.event(f"  {role.replace('_', ' ')}: {url}")

    def close_console(self, status: str) -> dict:
        """Stop the console: its streams end with the run; what it cost, for run.json."""
        if self.monitor is not None:
            self.monitor.stop()
        if self.console is None:
            return {}
        held = self.hold.release()  # a hold still on when the run ended ends with it
        if held is not None and hasattr(self, "writer"):
            self._record("release", "run", "the run's end", held_s=round(held, 1))
        self.console.live.run["status"] = status
        self.console.stop()
        spent = self.console.cpu_s + self.console.live.cpu_s + \
            (self.monitor.cpu_s if self.monitor is not None else 0.0)
        return {"host": self.console.host, "port": self.console.port,
                "cpu_s": round(spent, 3),
                "runner_cpu_s": round(time.process_time(), 3)}

    def _record(self, event: str, role: str, by: str, **fields: object) -> dict:
        return self.writer.event(event, role=role, by=by, **fields)

    def _ready(self) -> None:
        """Actions wait for the run's record to exist (the console opens just before)."""
        if not hasattr(self, "writer"):
            raise ApiError(409, "the run is starting: try again in a second")

    def _note(self, role: str, by: str, text: str) -> dict:
        self._ready()
        line = self._record("note", role, by, text=text, during=self.live_fault)
        return {"message": "note added", "note": line}

    def _ack(self, role: str, by: str) -> dict:
        self._ready()
        try:
            taken, _ = self.platform.acknowledge(by)
        except UserError as exc:
            raise ApiError(409, exc.message) from None
        except Exception as exc:  # the pager refused or is down: say so on the page
            raise ApiError(502, f"the pager: {exc}") from None
        self._record("ack", role, by, pages=taken)
        self.progress.event(f"ack: {len(taken)} pages acknowledged by {by} from the console")
        return {"message": f"{len(taken)} pages acknowledged" if taken else
                "no page was open"}

    def _hold(self, role: str, by: str) -> dict:
        self._ready()
        if self.abort is not None:
            raise ApiError(409, "the game day is stopping")
        if not self.hold.start(by):
            raise ApiError(409, f"already held by {self.hold.by}")
        self._record("hold", role, by)
        self.progress.event(f"HOLD by {by}: the next fault waits until released; the load "
                            "keeps running")
        return {"message": "held: the next fault waits until released"}

    def _release(self, role: str, by: str) -> dict:
        self._ready()
        held = self.hold.release()
        if held is None:
            raise ApiError(409, "nothing is held")
        self._record("release", role, by, held_s=round(held, 1))
        self.progress.event(f"released by {by} after {held:.0f} s held")
        return {"message": f"released after {held:.0f} s"}

    def _abort(self, role: str, by: str) -> dict:
        self._ready()
        if self.abort is not None:
            raise ApiError(409, f"already stopping: {self.abort.reason}")
        self._record("abort_request", role, by)
        self.request_abort(Trip(f"aborted from the console by {by} "
                                f"({role.replace('_', ' ')})", -1))
        return {"message": "aborting: every fault is rolled back, then the report"}
