"""Database actions: fail the primary over to its standby, and restore the topology."""

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.lease import fenced
from chaoslib_edx.ledger import record_rollback, settle
from chaoslib_edx.liveness import watched
from chaoslib_edx.targets import Target, resolve

__all__ = ["failover_database", "restore_database"]

_ROLLBACK = "chaoslib_edx.rds.actions:restore_database"


@fenced
@watched
def failover_database(database: str = "edxapp", downtime_seconds: float = 2.0,
                      configuration: Configuration = None, secrets: Secrets = None) -> dict:
    """Fail the primary database over to its standby (RDS Multi-AZ reboot with failover,
    Aurora cluster failover, or the sandbox's MariaDB replica promoted behind its endpoint).

    Writes fail until the standby is promoted; downtime_seconds stretches that window on
    the sandbox. The rollback, restore_database, is recorded in the ledger first.
    """
    target = resolve("database", database, configuration)
    record_rollback("failover_database", _ROLLBACK, {"database": database}, configuration)
    return target.drive("failover", secrets, downtime_seconds=downtime_seconds)


def live_failover(target: Target, arguments: dict, result: dict,
                  secrets: Secrets | None) -> bool | None:
    """The live check of failover_database (see faults.py): the primary is still not the
    one before; None where the platform completes the failover later (RDS, Aurora)."""
    if result.get("primary_after") is None:
        return None
    return target.drive("primary", secrets) != result["primary_before"]


@fenced
@watched
def restore_database(database: str = "edxapp", configuration: Configuration = None,
                     secrets: Secrets = None) -> dict:
    """Restore the database after a failover: the sandbox fails back to its original
    primary with a replicating standby; on AWS, wait until the database is available."""
    target = resolve("database", database, configuration)
    result = target.drive("restore", secrets)
    settle(_ROLLBACK, {"database": database}, configuration)
    return result
