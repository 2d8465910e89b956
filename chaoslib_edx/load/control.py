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
from chaoslib_edx.configuration import environment_file
from chaoslib_edx.environment import load_environment
from chaoslib_edx.files import SHIPPED
from chaoslib_edx.load import launcher
from chaoslib_edx.load.shapes import LaunchCurve
from chaoslib_edx.platforms import platform

logger = logging.getLogger("chaostoolkit")
PROFILE = SHIPPED / "loadprofiles" / "course_launch.py"
_runs: dict[str, launcher.LoadRun] = {}


def _settings(configuration: Configuration | None) -> dict:
    config = configuration or {}
    return {"mode": config.get("edx_load", "control"),
            "metrics": Path(config.get("edx_metrics_file", "runs/chaos/metrics.jsonl")),
            "users": int(config.get("edx_load_users", 20)),
            "seconds": int(config.get("edx_load_seconds", 180)),
            "warmup": int(config.get("edx_load_warmup_seconds", 12))}


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **kwargs: object) -> None:
    settings = _settings(configuration)
    if settings["mode"] == "external":
        return
    path = environment_file(configuration)
    target = platform(load_environment(path), path)
    if not target.loopback_only:
        raise ValueError("the load control drives the sandbox only; against staging run "
                         "load with edx-gameday run (edx_load: external)")
    metrics = settings["metrics"]
    metrics.unlink(missing_ok=True)
    users, seconds = settings["users"], settings["seconds"]
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
    run.wait_warm(settings["warmup"], slack_s=30)
    logger.info(f"load: {users} learners against {target.lms_url()}, metrics in {metrics}")


def after_experiment_control(context: Experiment, state: object,
                             configuration: Configuration = None, secrets: Secrets = None,
                             **kwargs: object) -> None:
    run = _runs.pop(str(_settings(configuration)["metrics"]), None)
    if run is not None:
        run.stop()
