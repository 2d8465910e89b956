"""Chaos Toolkit extension and game-day runner for an Open edX-scale learning platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chaostoolkit-edx")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"
__all__ = ["discover", "load_exported_activities"]

# Activities that belong to no fault kind; the faults' own come from the registry.
OTHER_ACTIVITY_MODULES = (("chaoslib_edx.slo.probes", "probe"),)


def activity_modules() -> list[tuple[str, str]]:
    """(module, "action" | "probe") for every module `chaos discover` lists."""
    from chaoslib_edx.faults import FAULTS

    faults = [(module, kind) for fault in FAULTS
              for module, kind in ((fault.actions_module, "action"),
                                   (fault.probes_module, "probe"))]
    return [*faults, *OTHER_ACTIVITY_MODULES]


def discover(discover_system: bool = True) -> dict:
    """What `chaos discover chaostoolkit-edx` lists."""
    from chaoslib.discovery.discover import initialize_discovery_result

    discovery = initialize_discovery_result("chaostoolkit-edx", __version__, "edx")
    discovery["activities"].extend(load_exported_activities())
    return discovery


def load_exported_activities() -> list[dict]:
    """Every exported action and probe with its arguments and docstring. chaoslib is
    imported here, not at the top: the Locust processes import chaoslib_edx.load."""
    from chaoslib.discovery.discover import discover_actions, discover_probes

    activities: list[dict] = []
    for module, kind in activity_modules():
        activities.extend(discover_actions(module) if kind == "action"
                          else discover_probes(module))
    return activities
