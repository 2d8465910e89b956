"""The environment lock: one game day (or recover) per environment; a dead holder frees it."""

import subprocess
import sys

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.lock import EnvironmentLock, environment_lock
from chaoslib_edx.ledger import Ledger
from tests.conftest import REPO, one_paragraph, run_cli, write_yaml

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
    """The lock is the environment's (its state dir), whatever ledger file a run names;
    once free, recover runs the pending rollback (here it fails: no sandbox is up)."""
    env = write_yaml(tmp_path / "env.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": "state", "port_base": 23000}})  # relative: to env.yaml
    ledger = tmp_path / "elsewhere" / "ledger.jsonl"
    Ledger(ledger).record("break_video_origin", "chaoslib_edx.cdn.actions:restore_video_origin",
                          {"distribution": "video", "saved": {}})
    lock = environment_lock({"edx_environment": str(env)}).acquire("runs/live")
    assert lock.path == tmp_path / "state" / "gameday" / "lock"
    try:
        result = run_cli("recover", "--env", str(env), "--ledger", str(ledger))
    finally:
        lock.release()
    assert result.returncode == 2, result.stderr
    assert "is in use by another game day" in one_paragraph(result.stderr)
    assert len(Ledger(ledger).pending()) == 1  # nothing ran
    attempt = run_cli("recover", "--env", str(env), "--ledger", str(ledger))
    assert attempt.returncode == 1 and "restore_video_origin" in attempt.stdout
    assert "FAILED" in attempt.stdout and len(Ledger(ledger).pending()) == 1  # kept
