"""Check an experiment's faults against the inventory and guardrails before anything acts.

chaoslib turns any exception an activity raises into ActivityFailed and carries on, so
a refusal inside an activity cannot stop a run; a control can. `control.py` calls this
before the experiment, `edx-gameday check` calls it from the command line.
"""

import inspect
from importlib import import_module

from chaoslib import substitute
from chaoslib.types import Activity, Configuration, Experiment, Secrets

from chaoslib_edx.pods.actions import planned_kill
from chaoslib_edx.targets import Target, resolve

# Resource folder -> (target kind, the argument naming the target)
_FOLDERS = {"rds": ("database", "database"), "cache": ("cache", "cache"),
            "pods": ("pods", "deployment"), "cdn": ("cdn", "distribution")}


def check_activity(activity: Activity, configuration: Configuration | None,
                   secrets: Secrets | None) -> Target | None:
    """The target of one of our fault activities, or GuardrailRefused; None for others."""
    provider = activity.get("provider", {})
    parts = str(provider.get("module", "")).split(".")
    if provider.get("type") != "python" or len(parts) != 3 or parts[0] != "chaoslib_edx" \
            or parts[1] not in _FOLDERS:
        return None
    func = getattr(import_module(provider["module"]), provider["func"])
    arguments = substitute(provider.get("arguments", {}), configuration, secrets)
    bound = inspect.signature(func).bind_partial(**arguments)
    bound.apply_defaults()
    kind, name_argument = _FOLDERS[parts[1]]
    target = resolve(kind, bound.arguments[name_argument], configuration)
    if provider["func"] == "kill_lms_replicas":
        planned_kill(target, bound.arguments["share"], bound.arguments["count"], secrets)
    return target


def check_experiment(experiment: Experiment, configuration: Configuration | None,
                     secrets: Secrets | None) -> list[tuple[str, Target]]:
    """Every fault activity of the method and rollbacks with its target, or a refusal."""
    planned = []
    for activity in [*experiment.get("method", []), *experiment.get("rollbacks", [])]:
        target = check_activity(activity, configuration, secrets)
        if target is not None:
            planned.append((activity.get("name", "?"), target))
    return planned
