"""Chaos Toolkit extension and game-day runner for an Open edX-scale learning platform."""

__version__ = "0.1.0"
__all__ = ["discover", "load_exported_activities"]

# One table drives discovery: (module, kind). chaoslib is imported lazily so the Locust
# processes, which import chaoslib_edx.load, never load it.
ACTIVITY_MODULES = (
    ("chaoslib_edx.rds.actions", "action"), ("chaoslib_edx.rds.probes", "probe"),
    ("chaoslib_edx.cache.actions", "action"), ("chaoslib_edx.cache.probes", "probe"),
    ("chaoslib_edx.pods.actions", "action"), ("chaoslib_edx.pods.probes", "probe"),
    ("chaoslib_edx.cdn.actions", "action"), ("chaoslib_edx.cdn.probes", "probe"),
    ("chaoslib_edx.slo.probes", "probe"),
)


def discover(discover_system: bool = True) -> dict:
    """What `chaos discover chaostoolkit-edx` lists."""
    from chaoslib.discovery.discover import initialize_discovery_result

    discovery = initialize_discovery_result("chaostoolkit-edx", __version__, "edx")
    discovery["activities"].extend(load_exported_activities())
    return discovery


def load_exported_activities() -> list[dict]:
    from chaoslib.discovery.discover import discover_actions, discover_probes

    activities: list[dict] = []
    for module, kind in ACTIVITY_MODULES:
        activities.extend(discover_actions(module) if kind == "action"
                          else discover_probes(module))
    return activities
