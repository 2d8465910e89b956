"""Run a game day: preflight, one load for the whole timeline, the experiments through
chaoslib with the SLOs watched the whole time, abort and roll back when a condition trips,
then the run directory and its report.

Locust never runs in this process (it monkey-patches the interpreter and dies in ssl
after boto3/chaoslib are imported): the load is a child process writing metrics.jsonl,
which the watcher reads.
"""

import logging
import shutil
import signal
import threading
import time
from pathlib import Path

from chaoslib_edx import lease
from chaoslib_edx.console.live import Live
from chaoslib_edx.console.monitor import Monitor
from chaoslib_edx.context import run_context
from chaoslib_edx.gameday import plan as planning
from chaoslib_edx.gameday.aborts import Aborts
from chaoslib_edx.gameday.generators import Generators
from chaoslib_edx.gameday.loadwatch import LoadWatch
from chaoslib_edx.gameday.outputs import (
    Outcome,
    configure_logging,
    keep_detection,
    run_info,
    utc_now,
)
from chaoslib_edx.gameday.progress import Progress
from chaoslib_edx.gameday.schema import Loaded
from chaoslib_edx.gameday.team import TeamActions
from chaoslib_edx.gameday.timeline import Timeline
from chaoslib_edx.gameday.watch import Trip, Watcher
from chaoslib_edx.history.record import record_run
from chaoslib_edx.ledger import open_ledger, recover_command
from chaoslib_edx.load import launcher
from chaoslib_edx.load.identity import RUN
from chaoslib_edx.load.shapes import LaunchCurve
from chaoslib_edx.load.workers import RemoteWorkers, WorkersMissing
from chaoslib_edx.recovery import control as safety
from chaoslib_edx.report.rundir import CATALOG_COPY, RunWriter
from chaoslib_edx.report.summary import verdict
from chaoslib_edx.slo import gate

# Rollbacks run on every path, hypothesis deviated or run interrupted (not chaoslib's default).
SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}}}
# A closed terminal or SSH session (SIGHUP) stops a game day as SIGINT and SIGTERM do.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class GameDayRun(Aborts, TeamActions):
    def __init__(self, gameday: Loaded, out: Path, confirm: str | None = None,
                 progress: Progress | None = None, console: bool = False,
                 ignore_gate: list[str] = ()) -> None:
        Aborts.__init__(self)
        TeamActions.__init__(self)
        self.gameday, self.out, self.confirm = gameday, Path(out), confirm
        self.metrics = self.out / "metrics.jsonl"
        self.config = planning.overrides(gameday, self.metrics, confirm)
        self.platform = run_context(self.config).platform
        kinds = {n: gameday.catalog.get(n).indicator.type for n in gameday.spec.slos}
        self.progress = progress or Progress(kinds)
        self.failed = False  # the runner itself broke (the report says why)
        self.ignore_gate = list(ignore_gate)  # SLOs a human let past the budget gate
        self.budgets: list[gate.Budget] = []
        self.writer: RunWriter
        self.watcher: Watcher
        self.generators = Generators(gameday.spec.load.workers, gameday.path, self.progress)
        self.master = self.platform.load_master() \
            if isinstance(gameday.spec.load.workers, RemoteWorkers) else None  # checked early
        self.run_lease: lease.Run  # the environment's lease, held from execute() on
        # Where the live console listens (None: no console, no port opened).
        self.console_at = self.platform.console_address(gameday.spec.console.port) \
            if console or gameday.spec.console.enabled else None

    # -- preflight -------------------------------------------------------------------

    def dry_run(self) -> tuple[list[str], bool]:
        """The plan and the preflight as lines, and whether a run would start."""
        lines, ready = planning.dry_run(self.gameday, self.config, self.platform,
                                        self.progress.event, self.ignore_gate)
        if self.console_at is not None:
            host, port = self.console_at
            lines.append(f"console: on {host}:{port}, one URL per role printed as the run "
                         "starts")
        return lines, ready

    def _load_env(self) -> dict[str, str]:
        load = self.gameday.spec.load
        learners = {"EDX_LEARNERS_FILE": load.learners} if load.learners else {}
        return {**{LaunchCurve.ENV[k]: str(v) for k, v in load.shape.model_dump().items()},
                **self.platform.load_environment(), **learners, RUN: self.run_lease.id}

    # -- the run ---------------------------------------------------------------------

    def execute(self) -> Outcome:
        """Take the environment's lease, pass preflight, run; the lease goes back when the
        run ends."""
        self.run_lease = lease.begin(self.config, f"game day '{self.gameday.spec.name}'",
                                     run_dir=self.out, say=self.progress.event,
                                     on_lost=self._lease_lost)
        try:
            plan, self.budgets = planning.checked(self.gameday, self.config, self.platform,
                                                  self.ignore_gate)
            self.progress.event(f"preflight: {len(plan)} experiments pass the guardrails, "
                                f"targets healthy, load to {self.platform.lms_url()}; lease "
                                f"token {self.run_lease.token}")
            if self.console_at is not None:
                self.open_console(Live(self.gameday, {
                    "environment": self.platform.environment.name,
                    "run_id": self.run_lease.id}), *self.console_at, self.gameday.path)
            return self.run(plan)
        finally:
            if self.console is not None:
                cost = self.close_console(self._status())
                if hasattr(self, "writer"):
                    self.writer.update(console=cost)
            lease.end(self.run_lease)

    def run(self, plan: list[planning.PlannedStep]) -> Outcome:
        spec = self.gameday.spec
        self.writer = RunWriter(self.out, run_info(self.gameday, self.config, self.run_lease))
        self.writer.update(budget_gate=gate.record(spec.budget_gate, self.budgets))
        if self.console is not None:
            self.writer.listeners.append(self.console.live.event)
            self.monitor = Monitor(self.console.live, self.platform.detection(), time.time())
            self.monitor.start()
        shutil.copyfile(self.gameday.spec.slo_catalog, self.out / CATALOG_COPY)
        log_handler = configure_logging(self.out)
        previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        # SIGUSR1 interrupts an experiment (see interrupt); between experiments it must not
        # kill the process, its default action.
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        load = watcher = bound = None
        refused: WorkersMissing | None = None
        if self.run_lease.lease.lost is not None:  # lost during the preflight: no fault runs
            self._lease_lost()
        try:
            load = launcher.start(spec.load.profile, self.platform.lms_url(),
                                  spec.max_duration_s, self.out,
                                  workers=spec.load.workers, master_bind=self.master,
                                  env=self._load_env(), metrics_file=self.metrics,
                                  allow_remote=not self.platform.loopback_only,
                                  pidfile=launcher.pidfile(self.platform.state_dir(),
                                                           self.run_lease.id))
            self.writer.event("load_start", pid=load.master.pid)
            self.generators.join(load, self.writer, self._stop.is_set)
            # The hard bound, from the load's start: the load stops by its own -t then, and
            # this interrupts whatever runs (its rollbacks and the report still run).
            bound = threading.Timer(spec.max_duration_s, self.request_abort, args=(Trip(
                f"the game day reached its max_duration_s ({spec.max_duration_s} s)", -1),))
            bound.daemon = True
            bound.start()
            watcher = self.watcher = Watcher(self.gameday, self.metrics, self.config,
                                             self.request_abort)
            watcher.start()
            load_watch = LoadWatch(load, self.generators.log, spec.max_duration_s)
            self._status_thread(watcher, load_watch)
            self._warm_up(load)
            started = time.monotonic()
            self.writer.event("timeline_start")  # the steps' offsets count from here
            load_watch.armed = True  # a fault is live or still to come from here
            for item in plan:
                # The offsets move later by the time the game master held the run.
                if not self.hold.wait_for(started + item.step.offset_s, self._stop):
                    break
                self._experiment(item)
                load_watch.armed = item is not plan[-1]
                self._wait(item.step.observe_s)
        except WorkersMissing as exc:  # the remote workers did not join: no fault has run
            refused = exc
        except (SystemExit, KeyboardInterrupt):
            # A signal that escaped chaoslib (one landing while it unwinds): an abort.
            name = signal.Signals(safety.last_signal).name if safety.last_signal else "a signal"
            self.abort = self.abort or Trip(f"interrupted by {name}", -1)
        except Exception as exc:  # the runner broke: roll back and report all the same
            self.abort = self.abort or Trip(f"the runner failed: {exc}", -1)
            self.writer.event("error", reason=str(exc))
            self.failed = True
        # Our handlers stay until the report is written: a signal from here on only marks
        # the run aborted (request_abort), it never cuts the clean-up or the report short.
        try:
            if bound is not None:
                bound.cancel()
            if watcher is not None:
                watcher.stop()
                if watcher.failures:
                    self.writer.update(watcher_failures=watcher.failures,
                                       watcher_errors=watcher.errors)
            self.progress.phase = "stopping load"
            if load is not None:
                self.generators.record(self.writer)  # a loss in the last second too
                load.stop()
                self.writer.event("load_end")
            if refused is not None:
                self.writer.update(status="refused", ended=utc_now(),
                                   abort_reason=refused.message)
                raise refused
            ledger = open_ledger(self.config)
            if self._still_held():
                for result in ledger.run_pending(self.run_lease, self.config, None,
                                                 whose=self.run_lease.id):
                    self.writer.event("ledger_rollback", **result)
            self.progress.phase = "reading alerts and pages"
            keep_detection(self.platform, self.out, self.gameday)
            pending = [e.rollback for e in ledger.pending(self.run_lease.id)]
            if pending and self.run_lease.lease.lost is not None:
                self.progress.event(f"LEASE LOST: rollbacks left to the environment's new "
                                    f"holder: {', '.join(pending)}")
            elif pending:
                self.progress.event(f"ROLLBACKS STILL PENDING: {', '.join(pending)}; run "
                                    f"`{self._recover_command()}`")
            self.writer.update(status=self._status(), ended=utc_now(),
                               abort_reason=self.abort.reason if self.abort else None,
                               pending_rollbacks=pending,
                               recover_command=self._recover_command())
            return self._finish()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            logging.getLogger("chaostoolkit").removeHandler(log_handler)

    def _still_held(self) -> bool:
        """Whether the run still holds its lease, checked now: a run that lost it rolls
        back nothing (and is aborted, if it was not already)."""
        try:
            self.run_lease.check()
            return True
        except lease.LeaseLost:
            self.writer.event("lease_lost", reason=self.run_lease.lease.lost,
                              at=self.run_lease.lost_at())
            self._lease_lost()
            return False

    def _recover_command(self) -> str:
        return recover_command(self.gameday.env_file, run_context(self.config).settings.ledger)

    def _status(self) -> str:
        return "failed" if self.failed else "aborted" if self.abort else "completed"

    def _status_thread(self, watcher: Watcher, load_watch: LoadWatch) -> None:
        def loop() -> None:
            while watcher.is_alive():
                self.progress.status(dict(watcher.current), watcher.rate)
                if self.console is not None:
                    self.console.live.tick(self.progress.phase, dict(watcher.current),
                                           watcher.rate, dict(watcher.readings),
                                           self.hold.total_s(), self.hold.shown())
                self.generators.record(self.writer)
                self._check_load(load_watch)
                time.sleep(1)

        threading.Thread(target=loop, name="progress", daemon=True).start()

    def _warm_up(self, load: launcher.LoadRun) -> None:
        """Wait for warmup_s seconds of metrics: SLO windows need load before the faults."""
        self.progress.phase = "warm-up"
        warmup = self.gameday.spec.load.warmup_s
        self.progress.event(f"load started (pid {load.master.pid}); warming up {warmup} s")
        load.wait_warm(warmup, stopped=self._stop.is_set)

    def _experiment(self, item: planning.PlannedStep) -> None:
        from chaoslib.experiment import run_experiment

        self.progress.event(f"{item.name}: starting ({item.title})")
        self.writer.event("experiment_start", experiment=item.name, title=item.title)
        safety.last_signal = None
        try:
            journal = run_experiment(item.experiment, settings=SETTINGS,
                                     event_handlers=[Timeline(self, item.name)])
        finally:
            self.interruptible = False
            # chaoslib puts back the handlers it found; the safety control's stay.
            for sig in STOP_SIGNALS:
                signal.signal(sig, self._on_signal)
        if safety.last_signal is not None:
            self.request_abort(Trip(f"interrupted by {signal.Signals(safety.last_signal).name}",
                                    -1))
        self.writer.journal(item.name, journal)
        self.writer.event("experiment_end", experiment=item.name, status=journal.get("status"),
                          deviated=journal.get("deviated", False))
        self.progress.event(f"{item.name}: {verdict(journal)}")
        self.progress.phase = f"observing after {item.name}"

    def _finish(self) -> Outcome:
        from chaoslib_edx.report.render import render, write_summary

        self.progress.phase = "report"
        write_summary(self.out)  # what the history records, then compares the run with
        record_run(self.platform, self.out, self.progress.event, self.gameday.spec.baseline)
        summary = render(self.out)
        status = self._status()
        if status != self.writer.run.get("status"):  # a signal came once the end was written
            self.writer.update(status=status, abort_reason=self.abort.reason)
            write_summary(self.out)
            record_run(self.platform, self.out, self.progress.event,
                       self.gameday.spec.baseline)
            summary = render(self.out)
        return Outcome.of(self.out, status, self.abort.reason if self.abort else None, summary)

