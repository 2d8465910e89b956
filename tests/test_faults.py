"""The fault registry: every kind is discoverable, resolvable on each platform, guarded,
health-checked, and its drivers keep one contract, with no second list to keep in step."""

import inspect
import typing
from importlib import import_module
from pathlib import Path

import pytest
import yaml

from chaoslib_edx import activity_modules, faults
from chaoslib_edx.faults import FAULTS, PLATFORMS, Fault
from chaoslib_edx.guardrails import check_activity
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.targets import GuardrailRefused, resolve
from tests.conftest import REPO, write_yaml

EXAMPLE_CLOUD = REPO / "gamedays/environments/staging.example.yaml"
KINDS = [pytest.param(fault, id=fault.kind) for fault in FAULTS]


def _sandbox_env(tmp_path: Path) -> dict:
    """A sandbox inventory; resolving a target needs no running sandbox."""
    env = write_yaml(tmp_path / "sandbox.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": str(tmp_path / "state"), "port_base": 23000}})
    return {"edx_environment": str(env)}


def _configuration(platform: str, tmp_path: Path) -> dict:
    if platform == "sandbox":
        return _sandbox_env(tmp_path)
    return {"edx_environment": str(EXAMPLE_CLOUD)}


def _target_name(fault: Fault, platform: str) -> str:
    placement = fault.placements[platform]
    if placement.names:
        return placement.names[0]
    root, _, section = placement.section.partition(".")
    return next(iter(yaml.safe_load(EXAMPLE_CLOUD.read_text())[root][section]))


def _actions(fault: Fault) -> list[str]:
    return import_module(fault.actions_module).__all__


def test_every_platform_has_a_placement_for_every_fault() -> None:
    assert all(set(fault.placements) == set(PLATFORMS) for fault in FAULTS)
    assert len({fault.kind for fault in FAULTS}) == len({fault.package for fault in FAULTS}) \
        == len(FAULTS)


@pytest.mark.parametrize("fault", KINDS)
def test_discoverable(fault: Fault) -> None:
    modules = dict(activity_modules())
    assert modules[fault.actions_module] == "action"
    assert modules[fault.probes_module] == "probe"
    probes = import_module(fault.probes_module).__all__
    assert fault.health_probe in probes
    for func in _actions(fault) + probes:  # every activity names its target the same way
        assert fault.argument in inspect.signature(
            getattr(import_module(fault.actions_module if func in _actions(fault)
                                  else fault.probes_module), func)).parameters, func


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("fault", KINDS)
def test_resolvable_on_each_platform(fault: Fault, platform: str, tmp_path: Path) -> None:
    """The example cloud inventory documents a target of every kind, and it resolves."""
    name = _target_name(fault, platform)
    target = resolve(fault.kind, name, _configuration(platform, tmp_path))
    assert (target.fault, target.name) == (fault, name)
    assert target.driver == fault.placements[platform].driver
    model = fault.placements[platform].model
    assert isinstance(target.spec, model if model is not None else Layout)
    import_module(fault.driver_module(platform))  # the driver exists


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("fault", KINDS)
def test_guarded(fault: Fault, platform: str, tmp_path: Path) -> None:
    """Every action of the kind is checked before it acts: an unknown target is refused."""
    configuration = _configuration(platform, tmp_path)
    for func in _actions(fault):
        activity = {"type": "action", "name": func, "provider": {
            "type": "python", "module": fault.actions_module, "func": func,
            "arguments": {fault.argument: "not-in-the-inventory"}}}
        with pytest.raises(GuardrailRefused) as refused:
            check_activity(activity, configuration, None)
        assert refused.value.field == (fault.placements[platform].section or "sandbox")


@pytest.mark.parametrize("fault", KINDS)
def test_rollbacks_are_exported_actions_that_settle_the_ledger(fault: Fault) -> None:
    """What recover may run: declared in the registry, exported, and named by the fault's
    own source as the rollback it records."""
    actions = import_module(fault.actions_module)
    source = inspect.getsource(actions)
    assert fault.rollbacks
    for rollback in fault.rollbacks:
        assert rollback in actions.__all__
        assert f'"{fault.actions_module}:{rollback}"' in source


@pytest.mark.parametrize("fault", KINDS)
def test_guards_are_functions_of_the_actions_they_guard(fault: Fault) -> None:
    actions = import_module(fault.actions_module)
    for action, guard in fault.guards.items():
        assert action in actions.__all__
        assert list(inspect.signature(getattr(actions, guard)).parameters) == \
            ["target", "arguments", "secrets"]


def test_a_guard_refuses_on_arguments_alone(tmp_path: Path) -> None:
    """The pod-kill guard: all 3 sandbox replicas is over the blast radius, refused from
    the inventory alone (the sandbox's replica count is in its settings)."""
    pods = faults.fault("pods")
    activity = {"type": "action", "name": "greedy", "provider": {
        "type": "python", "module": pods.actions_module, "func": next(iter(pods.guards)),
        "arguments": {pods.argument: "lms", "count": 3}}}
    with pytest.raises(GuardrailRefused, match="blast radius"):
        check_activity(activity, _sandbox_env(tmp_path), None)


def _contract_members(protocol: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(protocol).items()
            if inspect.isfunction(member) and not name.startswith("_")}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("fault", KINDS)
def test_drivers_keep_the_contract(fault: Fault, platform: str) -> None:
    """Every driver module has each function of its kind's Protocol, with the same
    parameters (extras only with defaults) and the same declared return shape."""
    driver = import_module(fault.driver_module(platform))
    for name, wanted in _contract_members(fault.contract).items():
        function = getattr(driver, name, None)
        assert callable(function), f"{driver.__name__} lacks {name}"
        have = inspect.signature(function)
        expected = list(wanted.parameters.values())[1:]  # without self
        for param in expected:
            got = have.parameters.get(param.name)
            assert got is not None and got.kind == param.kind, (driver.__name__, name, param)
        extra = [p for p in have.parameters.values()
                 if p.name not in {e.name for e in expected}]
        assert all(p.default is not inspect.Parameter.empty for p in extra), (name, extra)
        returns = wanted.return_annotation
        assert typing.get_type_hints(function)["return"] == \
            (type(None) if returns is None else returns), (driver.__name__, name)


def test_no_second_list_of_faults() -> None:
    """Outside the registry and each fault's own package, no module names a fault's
    package: discovery, targets, guardrails and the plan all go through FAULTS."""
    package = REPO / "chaoslib_edx"
    own = {fault.package for fault in FAULTS}
    for path in package.rglob("*.py"):
        relative = path.relative_to(package)
        if relative.name == "faults.py" or relative.parts[0] in own:
            continue
        text = path.read_text()
        for fault in FAULTS:
            assert f"chaoslib_edx.{fault.package}." not in text, (relative, fault.package)


def test_every_hold_is_an_action_of_its_fault_that_a_plan_can_name() -> None:
    """A capacity plan holds a fault through its registry entry alone."""
    held = [entry for entry in FAULTS if entry.hold is not None]
    assert {entry.kind for entry in held} == {"cache", "pods", "cdn", "database_latency",
                                              "zone"}
    for entry in held:
        module = import_module(entry.actions_module)
        assert entry.hold in module.__all__
        assert entry.argument in inspect.signature(getattr(module, entry.hold)).parameters


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.kind)
def test_the_rollback_bound_covers_every_wait_of_its_drivers(fault: Fault) -> None:
    """A runner stopped by SIGTERM (a pod's termination) gets the longest rollback bound to
    roll back: every timeout default of the fault's rollbacks and drivers, and every
    *_WAIT_S of its driver modules, must fit in its bound."""
    modules = [import_module(fault.actions_module),
               *(import_module(fault.driver_module(p)) for p in fault.placements)]
    waits = []
    for module in modules:
        waits += [(f"{module.__name__}.{name}", value) for name, value in vars(module).items()
                  if name.endswith("_WAIT_S")]
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue
            for parameter in inspect.signature(function).parameters.values():
                if parameter.name in ("timeout_s", "timeout_seconds") and \
                        parameter.default is not inspect.Parameter.empty:
                    waits.append((f"{module.__name__}.{name}", parameter.default))
    assert waits, "a rollback that waits for nothing is not bounded by anything we know"
    assert [w for w in waits if w[1] > fault.rollback_bound_s] == []
