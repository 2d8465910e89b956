"""Recording a run in its environment's history once its report is written: at the end of
every game day and capacity run, and for a crashed one when `recover` renders it again.
The run's own outcome never depends on it: a history that cannot be written is said, and
the run stands."""

from collections.abc import Callable
from pathlib import Path

from chaoslib_edx.history.rundirs import record_of
from chaoslib_edx.platforms import Platform


def record_run(platform: Platform, run_dir: Path | str, say: Callable[[str], None]) -> None:
    try:
        record = record_of(run_dir)
        record["platform_version"] = record["platform_version"] or \
            platform.environment.platform_version
        outcome = platform.history().record(record)
        say(f"history: run {record['run_key']} {outcome} ({platform.environment.name})")
    except Exception as exc:  # the run and its report stand; say what did not
        say(f"history: NOT RECORDED: {type(exc).__name__}: {exc}"[:500])
