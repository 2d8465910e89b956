"""`edx-gameday recover`: run what a crash left pending in an environment's ledger."""

from pathlib import Path

from chaoslib_edx.configuration import ENV_KEY, LEDGER_KEY, environment_file
from chaoslib_edx.environment import load_environment
from chaoslib_edx.gameday.lock import environment_lock
from chaoslib_edx.ledger import Ledger, ledger_path


def recover(env_file: str, ledger: str | None = None) -> tuple[Path, list[dict]]:
    """Run every pending rollback of ENV_FILE's environment under its lock, newest first.

    Refused (UserError) while a game day holds the lock: recovering under a live run
    would undo its faults. Returns the ledger's path and one result per rollback.
    """
    env_file = environment_file({ENV_KEY: env_file})
    env = load_environment(env_file)  # a bad file is exit 2 before anything runs
    configuration = {ENV_KEY: env_file, **({LEDGER_KEY: ledger} if ledger else {})}
    book = Ledger(ledger_path(configuration))
    lock = environment_lock(configuration, env.name).acquire("edx-gameday recover")
    try:
        return book.path, book.run_pending(configuration, None)
    finally:
        lock.release()
