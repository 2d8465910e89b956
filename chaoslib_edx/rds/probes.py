"""Database probes: can the application write, and which node is primary."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.targets import resolve

__all__ = ["database_writable", "database_primary"]


def database_writable(database: str = "edxapp", configuration: Configuration = None,
                      secrets: Secrets = None) -> bool:
    """True when the database takes writes (sandbox: a write through the endpoint as the
    application user; AWS: the instance or cluster is 'available')."""
    return resolve("database", database, configuration).drive("writable", secrets)


def database_primary(database: str = "edxapp", configuration: Configuration = None,
                     secrets: Secrets = None) -> str:
    """Where the primary is (sandbox node, instance AZ, or Aurora writer): changes on failover."""
    return resolve("database", database, configuration).drive("primary", secrets)
