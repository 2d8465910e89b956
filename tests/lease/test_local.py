"""The file lease: an flock and a token counter beside it. One run per environment, a
killed holder frees it at once, a paused one keeps it, and every grant's token is greater
than the last."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chaoslib_edx import lease
from chaoslib_edx.faults import FAULTS
from chaoslib_edx.lease.local import FileLease
from chaoslib_edx.ledger import Ledger
from tests.conftest import REPO, default_gameday_spec, one_paragraph, run_cli, write_yaml
from tests.recovery.runs import crashed_run_entry

HOLD = """
import sys, time
from chaoslib_edx import lease
run = lease.begin({"edx_environment": sys.argv[1]}, "a held game day", run_dir=sys.argv[2])
print("held", run.token, flush=True)
time.sleep(120)
"""


def _env(tmp_path: Path) -> Path:
    """An inventory of a sandbox that is not running: nothing can act on it for real."""
    return write_yaml(tmp_path / "env.yaml", {
        "name": "t", "kind": "sandbox", "driver": "sandbox",
        "sandbox": {"state_dir": "state", "port_base": 23000}})  # relative: to env.yaml


def _hold(env: Path, run_dir: Path) -> tuple[subprocess.Popen, int]:
    """A process holding ENV's lease through the runs' own code; its token."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(env), str(run_dir)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    word, token = holder.stdout.readline().split()
    assert word == "held"
    return holder, int(token)


@pytest.mark.integration
def test_tokens_grow_with_every_grant_and_a_killed_holder_frees_the_lease(tmp_path) -> None:
    path = tmp_path / "lock"
    first = FileLease(path, "staging")
    assert first.acquire({"label": "first"}) == 1
    first.release()
    env = _env(tmp_path)
    holder, token = _hold(env, tmp_path / "runs" / "held")
    try:
        with pytest.raises(lease.LeaseHeld) as refused:
            lease.begin({"edx_environment": str(env)}, "second")
        message = str(refused.value)
        assert "in use by a held game day" in message and f"pid {holder.pid}" in message
        assert str(tmp_path / "runs" / "held") in message  # its run directory
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs
        holder.wait()  # reaped: the kernel closed its descriptors, and with them the flock
    run = lease.begin({"edx_environment": str(env)}, "third")
    try:
        assert run.token == token + 1
        assert run.lease.took_over["pid"] == holder.pid  # the dead holder's note, kept
    finally:
        lease.end(run)
    assert FileLease(path, "staging").acquire({}) == 2  # each lease counts its own grants


def test_a_token_that_is_no_longer_current_is_a_lost_lease(tmp_path) -> None:
    """The state directory was wiped under a live run (its counter gone): the run's next
    check says its grant is not current, and stays lost."""
    held = FileLease(tmp_path / "lock", "staging")
    held.acquire({"label": "live"})
    held.check()
    held.counter.unlink()
    with pytest.raises(lease.LeaseLost, match="fencing token 1 is not the current one"):
        held.check()
    held.counter.write_text("1\n")
    with pytest.raises(lease.LeaseLost):
        held.check()  # lost is lost: no grant comes back by itself
    held.release()


def test_every_fault_and_rollback_is_refused_while_another_run_holds_it(tmp_path) -> None:
    """Called outside any run, each activity that acts takes the lease for its call: while
    another run holds it, each is refused before it touches anything."""
    env = _env(tmp_path)
    other = FileLease(tmp_path / "state" / "gameday" / "lock", "t")
    other.acquire({"label": "game day 'other'"})
    from importlib import import_module

    refused = []
    for fault in FAULTS:
        module = import_module(fault.actions_module)
        for name in module.__all__:
            with pytest.raises(lease.LeaseHeld, match="in use by game day 'other'"):
                getattr(module, name)(configuration={"edx_environment": str(env),
                                                     "edx_ledger": str(tmp_path / "l")})
            refused.append(name)
    other.release()
    assert len(refused) == sum(len(import_module(f.actions_module).__all__) for f in FAULTS)
    assert not (tmp_path / "l").exists()  # nothing was recorded, so nothing acted


@pytest.mark.integration
def test_a_paused_holder_keeps_the_lease(tmp_path) -> None:
    """SIGSTOP does not release an flock: recover, a game day and its dry run are all
    refused (exit 2) naming the holder, and nothing pending is run."""
    env = _env(tmp_path)
    ledger = tmp_path / "elsewhere" / "ledger.jsonl"
    crashed_run_entry(Ledger(ledger), tmp_path / "crashed", "break_video_origin",
                      "chaoslib_edx.cdn.actions:restore_video_origin",
                      {"distribution": "video", "saved": {}})
    spec = default_gameday_spec()
    gameday = write_yaml(tmp_path / "gameday.yaml", {**spec, "environment": str(env)})
    holder, _ = _hold(env, tmp_path / "runs" / "held")
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        attempts = [run_cli("recover", "--env", str(env), "--ledger", str(ledger)),
                    run_cli("run", str(gameday), "--dry-run"),
                    run_cli("run", str(gameday), "--out", str(tmp_path / "second"))]
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()
    for attempt in attempts:
        assert attempt.returncode == 2, attempt.stderr
        assert "in use by a held game day" in one_paragraph(attempt.stderr)
        assert str(tmp_path / "runs" / "held") in one_paragraph(attempt.stderr)
    assert not (tmp_path / "second").exists()
    assert len(Ledger(ledger).pending()) == 1  # nothing ran


@pytest.mark.integration
def test_recover_runs_a_crashed_runs_entries_once_the_lease_is_free(tmp_path) -> None:
    """The lease is the environment's (its state dir), whatever ledger file a run names;
    once free, recover runs the pending rollback and names its run (here the rollback
    fails: no sandbox is up, so it stays pending)."""
    env = _env(tmp_path)
    ledger = tmp_path / "elsewhere" / "ledger.jsonl"
    crashed_run_entry(Ledger(ledger), tmp_path / "crashed", "break_video_origin",
                      "chaoslib_edx.cdn.actions:restore_video_origin",
                      {"distribution": "video", "saved": {}})
    attempt = run_cli("recover", "--env", str(env), "--ledger", str(ledger))
    assert attempt.returncode == 1 and "restore_video_origin" in attempt.stdout
    assert "FAILED" in attempt.stdout and "run a crashed game day, lease token 1" in attempt.stdout
    assert len(Ledger(ledger).pending()) == 1  # kept
