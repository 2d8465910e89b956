"""Who a load generator is, as a worker proves it to its master when it joins: the
locustfile it runs, the version of this package, and the settings it reads from its own
environment that shape what it sends (the CDN it fetches video from, the courses), as
digests, never the values. The master refuses a worker whose digests are not its own
(load.membership): a worker running another locustfile, or pointed at another CDN, would
send requests the SLOs must not be judged on. What the master sends its workers itself
(its options: the host, the learners file, the arrival curve) is not part of it.

Pure Python: the plugin computes it in every Locust process of a run.
"""

import hashlib
import os
from pathlib import Path

from chaoslib_edx import __version__

# What the shipped profiles read from the environment to decide what each request is.
SHAPING = ("EDX_CDN_URL", "EDX_COURSES", "EDX_COURSE_KEYS")
RUN = "EDX_RUN_ID"  # the run a worker was started for, when it was (local workers)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def digest(locustfiles: list[str], environ: dict | None = None) -> dict:
    """This process's identity as a generator of the load LOCUSTFILES define (Locust's
    parsed list): {"profile", "settings", "run"}."""
    environ = os.environ if environ is None else environ
    profile = _sha(b"".join(Path(path).read_bytes() for path in locustfiles)
                   + __version__.encode())
    shaping = [f"{key}={environ.get(key, '')}" for key in SHAPING]
    return {"profile": profile, "settings": _sha("\n".join(shaping).encode()),
            "run": environ.get(RUN, "")}


def mismatch(mine: dict, theirs: object) -> str | None:
    """Why a worker's hello THEIRS is not from this run's generators, else None."""
    if not isinstance(theirs, dict):
        return "its hello is not a mapping"
    if theirs.get("profile") != mine["profile"]:
        return "it runs another locustfile (or another version of chaostoolkit-edx)"
    if theirs.get("settings") != mine["settings"]:
        return "its load settings differ (the CDN or the courses)"
    if theirs.get("run") and mine["run"] and theirs["run"] != mine["run"]:
        return f"it was started for another run ({theirs['run']})"
    return None
