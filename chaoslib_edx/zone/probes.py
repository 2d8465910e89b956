"""Zone probes: is the zone up, and are the writes committed around an outage still there.

The writes go through the application's own database endpoint, as the LMS's do: a fresh
token per write, kept by this process for as long as the experiment runs, so a write an
earlier run left is never taken for this run's."""

import uuid
import zlib

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.targets import resolve

__all__ = ["zone_healthy", "write_committed", "writes_kept"]

# (inventory, label) -> the token committed, or None: the write was tried and refused
_committed: dict[tuple[str, str], str | None] = {}


def zone_healthy(zone: str = "a", configuration: Configuration = None,
                 secrets: Secrets = None) -> bool:
    """True when everything in the zone runs and serves (AWS: no outage of ours live)."""
    return resolve("zone", zone, configuration).drive("healthy", secrets)


def write_key(label: str) -> int:
    """The row LABEL's writes go to (a signed 32-bit key)."""
    return zlib.crc32(label.encode()) & 0x7FFFFFFF


def write_committed(zone: str = "a", label: str = "before",
                    configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Commit a fresh token under LABEL as the application would; True when the commit
    was acknowledged (writes_kept then expects it back). False: the write failed (the
    database was not writable); on a platform whose database the runner cannot reach,
    the probe fails saying so."""
    target = resolve("zone", zone, configuration)
    token = uuid.uuid4().hex
    _committed[target.env_file, label] = None  # tried: a write that raises is never kept
    done = target.drive("write", secrets, key=write_key(label), token=token)
    if done is None:
        raise RuntimeError("the runner cannot reach this platform's database: check the "
                           "writes with the platform's own tools")
    _committed[target.env_file, label] = token if done else None
    return done


def writes_kept(zone: str = "a", labels: list = None,  # bare list: `chaos discover` types it
                configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when every write this run made under LABELS (default ["before"]) was
    acknowledged and reads back as written: no acknowledged write was lost to the
    failover or the failback. A write that was refused is False here too: what it would
    have shown is unknown, never "kept". None made yet, as in a steady state before the
    method: True. Where the database cannot be read from here (AWS), it fails saying so."""
    labels = labels or ["before"]
    target = resolve("zone", zone, configuration)
    made = {label: _committed[target.env_file, label] for label in labels
            if (target.env_file, label) in _committed}
    found = target.drive("read", secrets, keys=[write_key(label) for label, token
                                                  in made.items() if token is not None])
    if found is None:  # never a vacuous "kept" where nothing could have been checked
        raise RuntimeError("the runner cannot reach this platform's database, so no write "
                           "can be checked: drop this probe there, or run from where it can")
    return all(token is not None and found.get(write_key(label)) == token
               for label, token in made.items())
