"""Database-latency probes: is the LMS's way to its database at full speed."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.targets import resolve

__all__ = ["database_at_full_speed", "database_added_latency"]


def database_at_full_speed(database: str = "edxapp", configuration: Configuration = None,
                           secrets: Secrets = None) -> bool:
    """True when nothing adds latency between the LMS and its database (AWS: no FIS
    experiment of ours is running on the template)."""
    return database_added_latency(database, configuration, secrets) == 0


def database_added_latency(database: str = "edxapp", configuration: Configuration = None,
                           secrets: Secrets = None) -> int:
    """The milliseconds a fault now adds to each query (0: none)."""
    return resolve("database_latency", database, configuration).drive("added_latency", secrets)
