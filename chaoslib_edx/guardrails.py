"""Check an experiment's faults against the inventory and guardrails before anything acts.

chaoslib turns any exception an activity raises into ActivityFailed and carries on, so
a refusal inside an activity cannot stop a run; a control can. The safety control calls
this before the experiment, `edx-gameday check` and the game-day plan call it too.
"""

import inspect
from importlib import import_module

from chaoslib import substitute
from chaoslib.types import Activity, Configuration, Experiment, Secrets

from chaoslib_edx import faults
from chaoslib_edx.context import CONFIRM_KEY, ENV_KEY, run_context
from chaoslib_edx.files import load_experiment_file
from chaoslib_edx.targets import GuardrailRefused, Target, resolve


def check_activity(activity: Activity, configuration: Configuration | None,
                   secrets: Secrets | None, source: str | None = None) -> Target | None:
    """The target of one of our fault activities, or GuardrailRefused; None for an
    activity that cannot act, or one the inventory allows by name. SOURCE: the
    experiment's file, named when a guard refuses one of the activity's arguments."""
    provider = activity.get("provider", {})
    module = str(provider.get("module", ""))
    entry = faults.of_module(module)
    if provider.get("type") != "python" or entry is None:
        _refuse_foreign_action(activity, configuration)
        return None
    func = getattr(import_module(module), provider["func"])
    arguments = substitute(provider.get("arguments", {}), configuration, secrets)
    bound = inspect.signature(func).bind_partial(**arguments)
    bound.apply_defaults()
    target = resolve(entry.kind, bound.arguments[entry.argument], configuration)
    guard = entry.guards.get(provider["func"])
    if guard is not None:
        try:
            getattr(import_module(entry.actions_module), guard)(target, bound.arguments,
                                                                secrets)
        except GuardrailRefused as refused:
            if refused.file is not None:
                raise
            # A refusal without a file is of an argument's value: the experiment's to fix.
            raise GuardrailRefused(
                refused.message, file=source or "the experiment", fix=refused.fix,
                field=f"activity '{activity.get('name', '?')}' provider.arguments."
                      f"{refused.field}") from None
    return target


def _refuse_foreign_action(activity: Activity, configuration: Configuration | None) -> None:
    """Only the fault library may act (it checks its target and records its rollback
    first): any other action, or any function of an `actions` module whatever its type,
    is refused unless the inventory's guardrails.allow_actions names it."""
    provider = activity.get("provider", {})
    kind = provider.get("type")
    module = str(provider.get("module", ""))
    if kind == "python":
        name = f"{module}:{provider.get('func', '')}"
        acts = activity.get("type") == "action" or module.rsplit(".", 1)[-1] == "actions"
    else:
        name = str(provider.get("path") or provider.get("url") or "")
        acts = activity.get("type") == "action"
    if not acts:
        return
    context = run_context(configuration)
    path = context.env_file
    if name in context.environment.guardrails.allow_actions:
        return
    raise GuardrailRefused(
        f"the activity '{activity.get('name', '?')}' calls {kind} provider '{name}', which can "
        f"change the target and is not from the fault library (whose faults check their "
        f"target and record their rollback before acting)", file=path,
        field="guardrails.allow_actions",
        fix=f"Use a chaostoolkit-edx fault instead, or allow this one deliberately by adding "
            f"'{name}' to guardrails.allow_actions")


def check_experiment(experiment: Experiment, configuration: Configuration | None,
                     secrets: Secrets | None, source: str | None = None
                     ) -> list[tuple[str, Target]]:
    """Every fault activity of the method and rollbacks with its target, or a refusal."""
    planned = []
    for activity in [*experiment.get("method", []), *experiment.get("rollbacks", [])]:
        target = check_activity(activity, configuration, secrets, source)
        if target is not None:
            planned.append((activity.get("name", "?"), target))
    return planned


def check_experiment_file(path: str, env_file: str | None = None,
                          confirm_production: str | None = None) -> list[tuple[str, Target]]:
    """`edx-gameday check`: load an experiment file and check it (UserError when refused)."""
    from chaoslib.configuration import load_configuration

    loaded = load_experiment_file(path)  # what `chaos run` would refuse, refused here
    configuration = load_configuration(loaded.get("configuration", {}))
    if env_file:
        configuration[ENV_KEY] = env_file
    if confirm_production:
        configuration[CONFIRM_KEY] = confirm_production
    return check_experiment(loaded, configuration, None, str(path))
