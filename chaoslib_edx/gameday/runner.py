"""Run a game day: preflight, one load for the whole timeline, the experiments through
chaoslib with the SLOs watched the whole time, abort and roll back when a condition trips,
then the run directory and its report.

Locust never runs in this process (it monkey-patches the interpreter and dies in ssl
after boto3/chaoslib are imported): the load is a child process writing metrics.jsonl,
which the watcher reads.
"""

import logging
import os
import platform
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from chaoslib.run import RunEventHandler

from chaoslib_edx import platforms
from chaoslib_edx.configuration import LEDGER_KEY, setting
from chaoslib_edx.errors import UserError
from chaoslib_edx.files import output_dir, output_file
from chaoslib_edx.gameday import plan as planning
from chaoslib_edx.gameday.lock import environment_lock
from chaoslib_edx.gameday.progress import Progress
from chaoslib_edx.gameday.schema import Loaded
from chaoslib_edx.gameday.watch import Trip, Watcher
from chaoslib_edx.ledger import open_ledger, recover_command
from chaoslib_edx.load import launcher
from chaoslib_edx.load.shapes import LaunchCurve
from chaoslib_edx.recovery import control as safety
from chaoslib_edx.report.rundir import CATALOG_COPY, RunWriter
from chaoslib_edx.report.summary import verdict

EXIT_OK, EXIT_FAILED, EXIT_ABORTED = 0, 1, 3
# Rollbacks run on every path, hypothesis deviated or run interrupted (not chaoslib's default).
SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}}}
VERSIONED = ("chaostoolkit-edx", "chaostoolkit-lib", "chaostoolkit-aws",
             "chaostoolkit-kubernetes", "locust")
# A closed terminal or SSH session (SIGHUP) stops a game day as SIGINT and SIGTERM do.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Outcome:
    code: int
    run_dir: Path
    status: str
    abort_reason: str | None = None
    summary: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        """What the command line prints when the game day is over."""
        experiments, slos = self.summary["experiments"], self.summary["slos"]
        held = [e["name"] for e in experiments if e["verdict"] == "held"]
        missed = [s["name"] for s in slos if not s["met"]]
        lines = [f"game day {self.status}: {len(held)} of {len(experiments)} experiments held"
                 + "".join(f"; {e['name']}: {e['verdict']}" for e in experiments
                           if e["verdict"] != "held"),
                 f"SLOs over the run: {len(slos) - len(missed)} of {len(slos)} met"
                 + (f"; missed: {', '.join(missed)}" if missed else "")]
        if self.abort_reason:
            lines.append(f"{'ABORTED' if self.code == EXIT_ABORTED else 'FAILED'}: "
                         f"{self.abort_reason}")
        if self.summary.get("pending_rollbacks"):
            lines.append(f"ROLLBACKS STILL PENDING: {', '.join(self.summary['pending_rollbacks'])}"
                         f"; run: {self.summary['recover_command']}")
        lines.append(f"report: {self.run_dir / 'index.html'}")
        return lines


def junit_destination(path: str) -> Path:
    """Where --junit will write, checked before the game day: its directory exists, and it
    replaces no file but an earlier game day's JUnit report."""
    import xml.etree.ElementTree as ET

    target = output_file(path, "--junit")
    if target.exists():
        try:
            root = ET.parse(target).getroot()
        except (ET.ParseError, OSError, UnicodeError):
            root = None
        if root is None or root.tag != "testsuite" \
                or not str(root.get("name", "")).startswith("game day "):
            raise UserError("exists and is not a game day's JUnit report: the run would "
                            "overwrite it", file=target, field="--junit",
                            fix="Remove it or pick another path")
    return target


def run_directory(gameday: Path | str, out: Path | str | None) -> Path:
    """OUT, else reports/<game day>-<UTC time>; refused when it holds files already."""
    name = "".join(c if c.isalnum() else "-" for c in Path(gameday).stem.lower())
    run_dir = output_dir(
        out or f"reports/{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}", "--out")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError("the run directory exists and is not empty", file=run_dir,
                        fix="Pick another --out (runs never overwrite one another)")
    return run_dir


class _Timeline(RunEventHandler):
    """chaoslib run events into the timeline: the fault is live from the method's start
    to the end of the rollbacks."""

    def __init__(self, runner: "GameDayRun", name: str) -> None:
        self.runner, self.name = runner, name

    def _mark(self, event: str, phase: str, **fields: object) -> None:
        self.runner.writer.event(event, experiment=self.name, **fields)
        self.runner.progress.phase = phase

    def started(self, experiment: dict, journal: dict) -> None:
        # Inside chaoslib's exit_signals, which restores our handler when the run ends.
        signal.signal(signal.SIGUSR1, self.runner.interrupt)

    def start_hypothesis_before(self, experiment: dict) -> None:
        self.runner.arm_interrupt()
        self._mark("hypothesis_before", f"{self.name}: steady state before")

    def hypothesis_before_completed(self, experiment: dict, state: dict, journal: dict) -> None:
        held = bool(state and state.get("steady_state_met"))
        self.runner.writer.event("hypothesis_before_done", experiment=self.name, met=held)

    def start_method(self, experiment: dict) -> None:
        self.runner.arm_interrupt()
        self.runner.watcher.arm()
        self._mark("fault_start", f"{self.name}: FAULT LIVE")
        self.runner.progress.event(f"{self.name}: fault live")

    def start_rollbacks(self, experiment: dict) -> None:
        self.runner.interruptible = False  # an abort from now on lets the rollbacks finish
        self._mark("rollback_start", f"{self.name}: rolling back")

    def rollbacks_completed(self, experiment: dict, journal: dict) -> None:
        failed = [run["activity"].get("name", "?") for run in journal.get("rollbacks", [])
                  if run.get("status") != "succeeded"]
        self._mark("fault_end", f"{self.name}: rolled back", failed_rollbacks=failed)
        self.runner.progress.event(
            f"{self.name}: ROLLBACK FAILED ({', '.join(failed)}); it stays pending in the "
            f"recovery ledger" if failed else f"{self.name}: rolled back")


class GameDayRun:
    def __init__(self, gameday: Loaded, out: Path, confirm: str | None = None,
                 progress: Progress | None = None) -> None:
        self.gameday, self.out, self.confirm = gameday, Path(out), confirm
        self.metrics = self.out / "metrics.jsonl"
        self.config = planning.overrides(gameday, self.metrics, confirm)
        self.platform = platforms.platform(gameday.environment, gameday.env_file)
        kinds = {n: gameday.catalog.get(n).indicator.type for n in gameday.spec.slos}
        self.progress = progress or Progress(kinds)
        self.abort: Trip | None = None
        self.failed = False  # the runner itself broke (the report says why)
        self._stop = threading.Event()
        # Main thread only: an experiment is between its start and its rollbacks.
        self.interruptible = False
        self.writer: RunWriter
        self.watcher: Watcher

    # -- preflight -------------------------------------------------------------------

    def preflight(self) -> tuple[list[planning.PlannedStep], list[tuple[str, bool, str]]]:
        """What a run checks before it starts: guardrails (a refusal raises), no rollback
        pending (raises), the health of every target and of the platform. Read-only."""
        plan = planning.build(self.gameday, self.config)
        ledger = open_ledger(self.config)
        pending = ledger.pending()
        if pending:
            raise UserError(f"{len(pending)} rollbacks of an earlier run are still pending "
                            f"({', '.join(e.rollback for e in pending)})",
                            file=ledger.where,
                            fix=f"Run `{self._recover_command()}` first")
        health = planning.health(plan)
        try:
            self.platform.check_ready()
            health.append((f"platform {self.platform.name}", True, "ready"))
        except UserError as exc:
            health.append((f"platform {self.platform.name}", False, str(exc)))
        return plan, health

    def dry_run(self) -> tuple[list[str], bool]:
        """The plan and the preflight as lines, and whether a run would start. Probes the
        environment lock without taking it; refusals raise as they would for a run."""
        environment_lock(self.config).probe()
        plan, health = self.preflight()
        lines = planning.describe(self.gameday, plan)
        lines += [f"health: {label:<22} {'ok' if ok else 'NOT HEALTHY'} ({detail})"
                  for label, ok, detail in health]
        lines.append(f"dry run: nothing was started or changed; load would go to "
                     f"{self.platform.lms_url()}")
        return lines, all(ok for _, ok, _ in health)

    def _checked_plan(self) -> list[planning.PlannedStep]:
        plan, health = self.preflight()
        unhealthy = [f"{label} ({detail})" for label, ok, detail in health if not ok]
        if unhealthy:
            raise UserError(f"targets are not healthy before the game day: "
                            f"{'; '.join(unhealthy)}", file=self.gameday.env_file,
                            fix="Bring them back first (sandbox: `edx-gameday sandbox up`)")
        self.progress.event(f"preflight: {len(plan)} experiments pass the guardrails, targets "
                            f"healthy, load to {self.platform.lms_url()}")
        return plan

    def _load_env(self) -> dict[str, str]:
        shape = self.gameday.spec.load.shape.model_dump()
        return {**{LaunchCurve.ENV[k]: str(v) for k, v in shape.items()},
                **self.platform.load_environment()}

    # -- aborting --------------------------------------------------------------------

    def request_abort(self, trip: Trip) -> None:
        """Stop the game day (from any thread): skip the rest of the timeline and
        interrupt a running experiment through SIGUSR1, which reaches the main thread."""
        if self.abort is not None:
            return
        self.abort = trip
        self.writer.event("abort", reason=trip.reason, condition=trip.condition,
                          second=trip.second, details=trip.details)
        self.progress.event(f"ABORT: {trip.reason}")
        self._stop.set()
        os.kill(os.getpid(), signal.SIGUSR1)

    def interrupt(self, signum: int, frame: object) -> None:
        """SIGUSR1 while an experiment runs: chaoslib's graceful exit (SystemExit 20: the
        run is marked interrupted and its rollbacks run), unless the rollbacks have begun."""
        if self.interruptible:
            raise SystemExit(20)

    def arm_interrupt(self) -> None:
        """The experiment may be interrupted from now on; at once if an abort is pending."""
        self.interruptible = True
        if self.abort is not None:
            raise SystemExit(20)

    def _on_signal(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        self.request_abort(Trip(f"interrupted by {name}", -1))

    def _wait(self, seconds: float) -> bool:
        """Sleep up to SECONDS; False when the game day was stopped meanwhile."""
        return not self._stop.wait(max(0.0, seconds))

    # -- the run ---------------------------------------------------------------------

    def execute(self) -> Outcome:
        """Lock the environment, pass preflight, run; the lock goes when the run ends."""
        lock = environment_lock(self.config).acquire(self.out.absolute())
        try:
            plan = self._checked_plan()
            return self.run(plan)
        finally:
            lock.release()

    def run(self, plan: list[planning.PlannedStep]) -> Outcome:
        spec = self.gameday.spec
        self.writer = RunWriter(self.out, self._run_info())
        shutil.copyfile(self.gameday.spec.slo_catalog, self.out / CATALOG_COPY)
        log_handler = configure_logging(self.out)
        previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        # SIGUSR1 interrupts an experiment (see interrupt); between experiments it must not
        # kill the process, its default action.
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        load = watcher = bound = None
        try:
            load = launcher.start(spec.load.profile, self.platform.lms_url(),
                                  spec.max_duration_s, self.out,
                                  workers=spec.load.workers, env=self._load_env(),
                                  metrics_file=self.metrics,
                                  allow_remote=not self.platform.loopback_only,
                                  state_dir=self.platform.state_dir())
            self.writer.event("load_start", pid=load.master.pid)
            # The hard bound, from the load's start: the load stops by its own -t then, and
            # this interrupts whatever runs (its rollbacks and the report still run).
            bound = threading.Timer(spec.max_duration_s, self.request_abort, args=(Trip(
                f"the game day reached its max_duration_s ({spec.max_duration_s} s)", -1),))
            bound.daemon = True
            bound.start()
            watcher = self.watcher = Watcher(self.gameday, self.metrics, self.config,
                                             self.request_abort)
            watcher.start()
            self._status_thread(watcher)
            self._warm_up(load)
            started = time.monotonic()
            for item in plan:
                if not self._wait(started + item.step.offset_s - time.monotonic()):
                    break
                self._experiment(item)
                self._wait(item.step.observe_s)
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
                load.stop()
                self.writer.event("load_end")
            ledger = open_ledger(self.config)
            for result in ledger.run_pending(self.config, None):
                self.writer.event("ledger_rollback", **result)
            pending = [e.rollback for e in ledger.pending()]
            if pending:
                self.progress.event(f"ROLLBACKS STILL PENDING: {', '.join(pending)}; run "
                                    f"`{self._recover_command()}`")
            self.writer.update(status=self._status(), ended=_utc_now(),
                               abort_reason=self.abort.reason if self.abort else None,
                               pending_rollbacks=pending,
                               recover_command=self._recover_command())
            return self._finish()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            logging.getLogger("chaostoolkit").removeHandler(log_handler)

    def _recover_command(self) -> str:
        return recover_command(self.gameday.env_file, setting(self.config, LEDGER_KEY))

    def _status(self) -> str:
        return "failed" if self.failed else "aborted" if self.abort else "completed"

    def _run_info(self) -> dict:
        spec, env = self.gameday.spec, self.gameday.environment
        return {"name": spec.name, "description": spec.description,
                "gameday": str(self.gameday.path), "status": "running",
                "environment": f"{env.name} (kind {env.kind}, driver {env.driver})",
                "env_file": str(Path(self.gameday.env_file).absolute()), "pid": os.getpid(),
                "ledger_file": setting(self.config, LEDGER_KEY),
                "started": _utc_now(), "roles": spec.roles.model_dump(), "slos": spec.slos,
                "slo_catalog": {"source": spec.slo_catalog, "copy": CATALOG_COPY},
                "timeline": [s.model_dump() for s in spec.timeline],
                "versions": {"python": platform.python_version(),
                             **{name: version(name) for name in VERSIONED}}}

    def _status_thread(self, watcher: Watcher) -> None:
        def loop() -> None:
            while watcher.is_alive():
                self.progress.status(dict(watcher.current), watcher.rate)
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
                                     event_handlers=[_Timeline(self, item.name)])
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
        from chaoslib_edx.report.render import render

        self.progress.phase = "report"
        summary = render(self.out)
        status = self._status()
        if status != self.writer.run.get("status"):  # a signal came once the end was written
            self.writer.update(status=status, abort_reason=self.abort.reason)
            summary = render(self.out)
        if self.failed:
            code = EXIT_FAILED
        elif self.abort:
            code = EXIT_ABORTED
        elif any(e["verdict"] != "held" for e in summary["experiments"]) \
                or not all(s["met"] for s in summary["slos"]):
            code = EXIT_FAILED
        else:
            code = EXIT_OK
        return Outcome(code, self.out, status, self.abort.reason if self.abort else None, summary)


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def configure_logging(run_dir: Path) -> logging.Handler:
    """chaoslib's log goes to the run directory, not the terminal (progress is there)."""
    logger = logging.getLogger("chaostoolkit")
    handler = logging.FileHandler(run_dir / "chaostoolkit.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler
