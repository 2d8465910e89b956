"""The environment lock: one game day (or recover) per environment; a dead holder frees it."""

import subprocess
import sys

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.lock import EnvironmentLock
from chaoslib_edx.ledger import Ledger
from tests.conftest import REPO, one_paragraph, run_cli

pytestmark = pytest.mark.integration

HOLD = """
import sys, time
from chaoslib_edx.gameday.lock import EnvironmentLock
lock = EnvironmentLock(sys.argv[1], "staging").acquire("runs/holder")
print("held", flush=True)
time.sleep(60)
"""


def test_a_held_lock_names_its_holder_and_a_killed_holder_frees_it(tmp_path) -> None:
    path = tmp_path / "lock-staging"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError) as refused:
            EnvironmentLock(path, "staging").acquire("runs/second")
        assert "is in use by another game day" in str(refused.value)
        assert f'"pid": {holder.pid}' in str(refused.value) and "runs/holder" in str(refused.value)
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs
        holder.wait()  # reaped: the kernel closed its descriptors, and with them the flock
    lock = EnvironmentLock(path, "staging").acquire("runs/third")
    lock.release()


def test_recover_refuses_while_a_game_day_holds_the_environment(tmp_path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    Ledger(ledger).record("fault", "tests.recovery.rollbacks:record_call", {"name": "x"})
    lock = EnvironmentLock(tmp_path / "lock-sandbox", "sandbox").acquire("runs/live")
    try:
        result = run_cli("recover", "--ledger", str(ledger))
    finally:
        lock.release()
    assert result.returncode == 2, result.stderr
    assert "is in use by another game day" in one_paragraph(result.stderr)
    assert len(Ledger(ledger).pending()) == 1  # nothing ran
    assert run_cli("recover", "--ledger", str(ledger)).returncode == 0
    assert Ledger(ledger).pending() == []
