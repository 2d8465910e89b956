"""Chaos Toolkit control: run the course-launch load around a plain `chaos run`.

Steady-state probes need live load. With this control an experiment brings its own:
flat load of `edx_load_users` learners against the environment's LMS, metrics to
`edx_metrics_file`, stopped after the experiment. The game-day runner sets
`edx_load: external` and runs one load for the whole timeline instead.

    controls:
      - name: load
        provider: {type: python, module: chaoslib_edx.load.control}
"""

import logging
import os
from pathlib import Path

from chaoslib.types import Configuration, Experiment, Secrets

from chaoslib_edx import lease
from chaoslib_edx.context import run_context
from chaoslib_edx.files import SHIPPED
from chaoslib_edx.load import launcher
from chaoslib_edx.load.shapes import LaunchCurve

logger = logging.getLogger("chaostoolkit")
PROFILE = SHIPPED / "loadprofiles" / "course_launch.py"
_runs: dict[str, launcher.LoadRun] = {}


DEFAULT_METRICS = "runs/chaos/metrics.jsonl"


def _metrics(configuration: Configuration | None) -> Path:
    return Path(run_context(configuration).settings.metrics_file or DEFAULT_METRICS)


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **kwargs: object) -> None:
    ours = run_context(configuration)  # `context` is Chaos Toolkit's: the experiment
    settings = ours.settings
    if settings.load == "external":
        return
    target = ours.platform
    if not target.loopback_only:
        raise ValueError("the load control drives the sandbox only; against staging run "
                         "load with edx-gameday run (edx_load: external)")
    metrics = _metrics(configuration)
    metrics.unlink(missing_ok=True)
    users, seconds = settings.load_users, settings.load_seconds
    # A flat curve: the launch shape with baseline = peak and the whole run as baseline.
    curve = {"baseline_users": users, "peak_users": users, "baseline_s": seconds,
             "spike_s": 0, "plateau_s": 0, "decay_s": 0, "time_scale": 1}
    flat = {**{LaunchCurve.ENV[k]: str(v) for k, v in curve.items()},
            **target.load_environment()}
    # Its pids under the run the safety control began, so `recover` stops only a dead run's.
    owner = lease.current(configuration)
    pids = launcher.pidfile(target.state_dir(), owner.id if owner else f"pid-{os.getpid()}")
    run = launcher.start(PROFILE, target.lms_url(), seconds, metrics.parent, env=flat,
                         metrics_file=metrics, pidfile=pids)
    _runs[str(metrics)] = run
    run.wait_warm(settings.load_warmup_seconds, slack_s=30)
    logger.info(f"load: {users} learners against {target.lms_url()}, metrics in {metrics}")


def after_experiment_control(context: Experiment, state: object,
                             configuration: Configuration = None, secrets: Secrets = None,
                             **kwargs: object) -> None:
    run = _runs.pop(str(_metrics(configuration)), None)
    if run is not None:
        run.stop()
