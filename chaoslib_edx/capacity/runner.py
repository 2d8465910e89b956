"""Run a capacity plan: preflight, then one open-model sweep per row (normal, then each
fault held live), each stopped by itself once an SLO breaks, then the report.

Like a game day: the environment is locked, a held fault's rollback is in the ledger before
it acts and runs when its sweep ends, on error and on SIGINT/SIGTERM/SIGHUP (`recover`
after a crash), and the load runs in its own processes, dying with this one.
"""

import json
import shutil
import signal
import threading
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from chaoslib_edx import lease
from chaoslib_edx.capacity import PLAN_COPY, RUN_FILE, SWEEP_FILE, analysis, preflight
from chaoslib_edx.capacity.plan import Degraded, LoadedPlan, hold_activity
from chaoslib_edx.capacity.saturation import ProcessSampler, read_samples
from chaoslib_edx.context import CONFIRM_KEY, ENV_KEY, run_context
from chaoslib_edx.errors import UserError
from chaoslib_edx.faults import fault as registry_fault
from chaoslib_edx.files import replace_text
from chaoslib_edx.history.record import record_run
from chaoslib_edx.ledger import open_ledger
from chaoslib_edx.load import launcher
from chaoslib_edx.load.identity import RUN
from chaoslib_edx.load.series import Series
from chaoslib_edx.load.workers import (
    RemoteWorkers,
    WorkersMissing,
    process_count,
    worker_events,
)
from chaoslib_edx.report.rundir import CATALOG_COPY
from chaoslib_edx.slo import gate

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The generator runs this many nice levels above the platform where it may (root): on a
# machine it shares with the platform (the sandbox) it then keeps its schedule and the
# platform gets what is left, so a knee is the platform's, not a starved generator's.
GENERATOR_PRIORITY = 5


class CapacityRun:
    def __init__(self, loaded: LoadedPlan, out: Path, confirm: str | None = None,
                 echo: Callable[[str], None] = print, ignore_gate: list[str] = ()) -> None:
        self.loaded, self.out, self.echo = loaded, Path(out), echo
        self.ignore_gate = list(ignore_gate)  # SLOs a human let past the budget gate
        self.budgets: list[gate.Budget] = []
        self.config = {ENV_KEY: loaded.env_file}
        if confirm:
            self.config[CONFIRM_KEY] = confirm
        self.platform = run_context(self.config).platform
        self.remote = isinstance(loaded.spec.load.workers, RemoteWorkers)
        self.master = self.platform.load_master() if self.remote else None  # checked early
        self.slos = [loaded.catalog.get(name) for name in loaded.spec.slos]
        self._stop = threading.Event()
        self.interrupted: str | None = None
        self.failed: str | None = None
        self.run_lease: lease.Run  # the environment's lease, held from execute() on

    # -- preflight -------------------------------------------------------------------

    def preflight(self) -> list[tuple[str, bool, str]]:
        """Read-only checks before a sweep (see capacity.preflight.checks)."""
        return preflight.checks(self.loaded, self.config, self.platform)

    def dry_run(self) -> tuple[list[str], bool]:
        held = lease.environment_lease(self.config).probe(self.echo)
        checks = self.preflight()
        budgets = preflight.budgets(self.loaded, self.platform, self.ignore_gate)
        lines = [*preflight.describe(self.loaded), held,
                 *gate.lines(self.loaded.spec.budget_gate, budgets, "capacity plan")]
        lines += [f"health: {label:<22} {'ok' if ok else 'NOT HEALTHY'} ({detail})"
                  for label, ok, detail in checks]
        lines.append(f"dry run: nothing was started or changed; load would go to "
                     f"{self.platform.lms_url()}")
        return lines, all(ok for _, ok, _ in checks) and all(b.passed or b.ignored
                                                              for b in budgets)

    # -- the run ---------------------------------------------------------------------

    def execute(self) -> dict:
        """Take the environment's lease, preflight (unhealthy targets: UserError), sweep,
        report; the summary."""
        self.run_lease = lease.begin(self.config, f"capacity run '{self.loaded.spec.name}'",
                                     run_dir=self.out, say=self.echo, on_lost=self._lease_lost)
        try:
            self.budgets = preflight.budgets(self.loaded, self.platform, self.ignore_gate)
            gate.enforce(self.loaded.spec.budget_gate, self.budgets, "capacity plan",
                         self.loaded.path)
            unhealthy = [f"{label} ({detail})" for label, ok, detail in self.preflight()
                         if not ok]
            if unhealthy:
                raise UserError(f"not healthy before the sweep: {'; '.join(unhealthy)}",
                                file=self.loaded.env_file,
                                fix="Bring them back first (sandbox: `edx-gameday sandbox up`)")
            return self._run()
        finally:
            lease.end(self.run_lease)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.interrupted = self.interrupted or signal.Signals(signum).name
        self._stop.set()

    def _lease_lost(self, reason: str) -> None:
        """The lease was lost: stop at once; the run rolls back nothing (its held fault is
        the new holder's to recover)."""
        self.interrupted = self.interrupted or (
            f"lease lost at {self.run_lease.lost_at()}: {reason}; its rollbacks are left to "
            "the environment's new holder")
        self._stop.set()

    def _release_held(self) -> list[dict]:
        """Run this run's pending rollbacks, if it still holds its lease (a run that lost
        it rolls back nothing)."""
        try:
            self.run_lease.check()
        except lease.LeaseLost:
            return []
        return open_ledger(self.config).run_pending(self.run_lease, self.config, None,
                                                    whose=self.run_lease.id)

    def _run(self) -> dict:
        from chaoslib_edx.capacity.report import render, write_summary

        self.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.loaded.path, self.out / PLAN_COPY)
        shutil.copyfile(self.loaded.spec.slo_catalog, self.out / CATALOG_COPY)
        info = {"name": self.loaded.spec.name, "plan": str(self.loaded.path.absolute()),
                "env_file": str(Path(self.loaded.env_file).absolute()),
                "environment": self.loaded.environment.name, "status": "running",
                "run_id": self.run_lease.id, "lease_token": self.run_lease.token,
                "started": time.time(), "sweeps": [],
                "budget_gate": gate.record(self.loaded.spec.budget_gate, self.budgets)}
        self._write_info(info)
        previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        refused: WorkersMissing | None = None
        try:
            for item in self.loaded.sweeps:
                if self._stop.is_set():
                    break
                name = item.name if item else "normal"
                info["sweeps"].append(name)
                self._write_info(info)
                self._sweep(name, item)
        except WorkersMissing as exc:  # workers that never joined: refused, nothing held
            refused = exc
        except Exception as exc:  # the runner broke: roll back and report all the same
            self.failed = f"{type(exc).__name__}: {exc}"
        finally:
            results = self._release_held()
            pending = [e.rollback for e in open_ledger(self.config).pending(self.run_lease.id)]
            info.update(status="refused" if refused else "failed" if self.failed else
                        "interrupted" if self.interrupted else "completed",
                        ended=time.time(), error=self.failed, interrupted_by=self.interrupted,
                        late_rollbacks=results, pending_rollbacks=pending)
            self._write_info(info)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if refused is not None:
            raise refused
        write_summary(self.out)  # what the history records, then compares the run with
        record_run(self.platform, self.out, self.echo, self.loaded.spec.baseline)
        return render(self.out)

    def _write_info(self, info: dict) -> None:
        replace_text(self.out / RUN_FILE, json.dumps(info, indent=2, default=str) + "\n")

    def _load_env(self) -> dict[str, str]:
        spec = self.loaded.spec
        env = {**self.platform.load_environment(), "EDX_ARRIVALS": self.loaded.curve.encode(),
               "EDX_POOL": str(self.loaded.pool()),
               "EDX_ARRIVAL_WORKERS": str(process_count(spec.load.workers)),
               RUN: self.run_lease.id}
        if spec.load.learners:
            env["EDX_LEARNERS_FILE"] = spec.load.learners
        return env

    def _sweep(self, name: str, item: Degraded | None) -> None:
        spec = self.loaded.spec
        sweep_dir = self.out / name
        sweep_dir.mkdir()
        meta: dict = {"name": name, "started": time.time(), "curve": self.loaded.curve.encode(),
                      "steps": [s.__dict__ for s in self.loaded.steps], "hold": None}
        load = sampler = None
        try:
            # Held before the load starts, so the first step is degraded too; remote
            # workers must all join first: a run they do not join changes nothing.
            if item is not None and not self.remote:
                meta["hold"] = self._hold(name, item)
            load = launcher.start(spec.load.profile, self.platform.lms_url(),
                                  int(self.loaded.sweep_bound_s()), sweep_dir,
                                  workers=spec.load.workers,
                                  master_bind=self.master,
                                  env=self._load_env(), max_requests=spec.bounds.max_requests,
                                  allow_remote=not self.platform.loopback_only,
                                  pidfile=launcher.pidfile(self.platform.state_dir(),
                                                           self.run_lease.id),
                                  priority=GENERATOR_PRIORITY)
            if self.remote:
                self._join(name, load)
                if item is not None:
                    meta["hold"] = self._hold(name, item)
            sampler = ProcessSampler({**self.platform.components(),
                                      "generator": [p.pid for p in load.processes]},
                                     sweep_dir / "saturation.jsonl")
            sampler.start()
            meta["stopped"] = self._watch(name, load, sweep_dir)
        finally:
            if load is not None:
                load.stop()
            if sampler is not None:
                sampler.stop()
            meta["ended"] = time.time()
            try:
                series = self.platform.saturation_series(meta["started"], meta["ended"])
            except Exception as exc:  # the report says it could not be read, and why
                series, meta["platform_series_error"] = {}, f"{type(exc).__name__}: {exc}"
            replace_text(sweep_dir / "platform-series.json", json.dumps(series) + "\n")
            if item is not None:
                meta["rollbacks"] = self._release_held()
                self.echo(f"{name}: fault released ("
                          + ", ".join(f"{r['rollback']} {'ok' if r['ok'] else 'FAILED'}"
                                      for r in meta["rollbacks"]) + ")")
            replace_text(sweep_dir / SWEEP_FILE, json.dumps(meta, indent=2, default=str) + "\n")

    def _hold(self, name: str, item: Degraded) -> dict:
        """Apply ITEM's fault through its registry hold action (its rollback is recorded
        first, as every action's is); what it did."""
        arguments = hold_activity(item)["provider"]["arguments"]
        entry = registry_fault(item.fault)
        self.echo(f"{name}: holding {item.fault} ({entry.hold}) for the whole sweep")
        result = getattr(import_module(entry.actions_module), entry.hold)(
            **arguments, configuration=self.config)
        return {"fault": item.fault, "action": entry.hold, "arguments": arguments,
                "result": result}

    def _join(self, name: str, load: launcher.LoadRun) -> None:
        """Every remote worker joins the sweep's master, or the run is refused (exit 2)."""
        workers = self.loaded.spec.load.workers
        host, port = load.master_bind
        self.echo(f"{name}: load master on {host}:{port}, waiting for {workers.expect} workers")
        load.wait_joined(workers.expect, workers.join_timeout_s, file=self.loaded.path)

    def _watch(self, name: str, load: launcher.LoadRun, sweep_dir: Path) -> str:
        """Follow the sweep step by step; why it ended."""
        spec = self.loaded.spec
        series = Series(load.metrics_file)
        shown, breaks = 0, 0
        deadline = time.monotonic() + self.loaded.sweep_bound_s() + launcher.GRACE_S
        while True:
            if self._stop.wait(0.5):
                return f"interrupted by {self.interrupted}"
            ended = load.master.poll() is not None  # before the last read: nothing missed
            t0, done = analysis.complete_steps(series.refresh(), self.loaded.steps)
            new = len(done) > shown
            samples = read_samples(sweep_dir / "saturation.jsonl") if new else []
            workers = worker_events(sweep_dir) if new else []
            for step in done[shown:]:
                result = analysis.step_result(step, t0, series, self.slos, samples,
                                              spec.generator, workers)
                self.echo(analysis.step_line(name, result))
                # A step whose workers changed mid-way measured the load's shuffle as much
                # as the platform: its break neither ends the sweep nor clears a streak.
                if not result.load_changed:
                    breaks = breaks + 1 if result.broken else 0
            shown = len(done)
            if shown == len(self.loaded.steps):
                return "every step ran"
            if breaks >= spec.sweep.stop_after_breaks:
                return f"an SLO broke in {breaks} step(s) in a row"
            if ended:
                if load.master.returncode != 0 and not shown:
                    raise RuntimeError(f"the load exited with code {load.master.returncode} "
                                       f"before a step ended; see {load.logs[0]}")
                return "the schedule ended"
            if time.monotonic() > deadline:
                return "the sweep reached its time bound"

