"""Who a load generator is, as a worker proves it to its master when it joins: the
locustfile it runs, the version of this package, the settings it reads from its own
environment that shape what it sends (the CDN it fetches video from, the courses) and the
learners it signs in as (the learners file's content, or the generated learners'
settings), as digests, never the values. The master refuses a worker whose digests are not
its own (load.membership): a worker running another locustfile, pointed at another CDN or
signing in as other learners would send requests the SLOs must not be judged on. A worker
reads its learners when it starts, before any option of the master's reaches it, so they
come from its own environment. What the master does send its workers (the host, the
arrival curve) is not part of it.

Pure Python: the plugin computes it in every Locust process of a run.
"""

import hashlib
import os
from pathlib import Path

from chaoslib_edx import __version__

# What the shipped profiles read from the environment to decide what each request is.
SHAPING = ("EDX_CDN_URL", "EDX_COURSES", "EDX_COURSE_KEYS")
LEARNERS = ("EDX_LEARNERS", "EDX_LEARNER_PASSWORD")  # when no EDX_LEARNERS_FILE names them
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
            "learners": _learners(environ), "run": environ.get(RUN, "")}


def _learners(environ) -> str:
    """The digest of who this process signs in as: its learners file's bytes, else the
    settings the generated learners come from."""
    if path := environ.get("EDX_LEARNERS_FILE"):
        try:
            return _sha(Path(path).read_bytes())
        except OSError as exc:  # the profile itself refuses to start; no match either way
            return f"unreadable ({exc.strerror})"
    return _sha("\n".join(f"{key}={environ.get(key, '')}" for key in LEARNERS).encode())


def mismatch(mine: dict, theirs: object) -> str | None:
    """Why a worker's hello THEIRS is not from this run's generators, else None."""
    if not isinstance(theirs, dict):
        return "its hello is not a mapping"
    if theirs.get("profile") != mine["profile"]:
        return "it runs another locustfile (or another version of chaostoolkit-edx)"
    if theirs.get("settings") != mine["settings"]:
        return "its load settings differ (the CDN or the courses)"
    if theirs.get("learners") != mine["learners"]:
        return "it would sign in as other learners (EDX_LEARNERS_FILE, or EDX_LEARNERS " \
               "and EDX_LEARNER_PASSWORD)"
    if theirs.get("run") and mine["run"] and theirs["run"] != mine["run"]:
        return f"it was started for another run ({theirs['run']})"
    return None
