"""One holder per environment, proved on game days against the real sandbox, its lease
and ledger in a DynamoDB table (moto's server, lease_s 6): a game day paused past its
lease loses it, `recover` from elsewhere takes over and undoes its fault, a second game
day runs, and the first, resumed, stops with "lease lost", touching nothing: the second's
fault stays live until its own rollback. Every delay is measured on the target, by timing
a query on the LMS's own way to its database."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from chaoslib_edx.ledger import open_ledger
from tests.aws import REGION, dynamodb_table
from tests.conftest import (
    compressed_gameday,
    load_processes,
    slow_database_experiment,
    write_yaml,
)
from tests.sandbox.helpers import db_query_ms, eventually

LEASE_S, GRACE_S = 6, 3


def _gameday(tmp_path: Path, sandbox, env_file: Path, name: str, latency_ms: int,
             hold_s: int) -> Path:
    experiment = slow_database_experiment(tmp_path, name, latency_ms, hold_s)
    path = compressed_gameday(tmp_path, sandbox, [(experiment, 0)])
    spec = {**yaml.safe_load(path.read_text()), "environment": str(env_file)}
    return write_yaml(tmp_path / f"gameday-{name}.yaml", spec)


def _start(gameday: Path, cwd: Path) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "chaoslib_edx", "run", str(gameday),
                             "--out", str(cwd / "run")], cwd=cwd, env=os.environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _live(proc: subprocess.Popen, run_dir: Path, layout, low_ms: float):
    def check() -> bool:
        assert proc.poll() is None, proc.communicate()
        timeline = run_dir / "timeline.jsonl"
        return timeline.exists() and "fault_start" in timeline.read_text() \
            and db_query_ms(layout) >= low_ms
    return check


def test_a_paused_game_day_loses_its_lease_and_undoes_nothing_of_the_next(
        sandbox, aws_env, tmp_path) -> None:
    table = dynamodb_table("gameday-fencing")
    env = yaml.safe_load(sandbox.env_file.read_text())
    env["state"] = {"backend": "dynamodb", "table": table, "region": REGION,
                    "lease_s": LEASE_S, "grace_s": GRACE_S}
    env_file = write_yaml(tmp_path / "sandbox-dynamodb.yaml", env)
    layout = sandbox.layout
    first = _start(_gameday(tmp_path, sandbox, env_file, "first", 2000, 60), tmp_path / "a")
    second = None
    try:
        eventually(_live(first, tmp_path / "a" / "run", layout, 1500), timeout=90, interval=0.5)
        os.kill(first.pid, signal.SIGSTOP)  # paused with its 2,000 ms delay live

        began = time.monotonic()
        (tmp_path / "r").mkdir()
        recovered = subprocess.run([sys.executable, "-m", "chaoslib_edx", "recover", "--env",
                                    str(env_file)], cwd=tmp_path / "r", capture_output=True,
                                   text=True, timeout=120)
        waited = time.monotonic() - began
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        assert waited >= LEASE_S + GRACE_S, waited  # it watched the lease go unrenewed
        assert "restore_database_speed" in recovered.stdout
        assert f"run game day 'compressed launch' in {tmp_path / 'a' / 'run'}, lease token 1" \
            in recovered.stdout
        assert not load_processes(tmp_path / "a" / "run" / "metrics.jsonl")  # its load killed
        assert db_query_ms(layout) < 300

        second = _start(_gameday(tmp_path, sandbox, env_file, "second", 400, 22),
                        tmp_path / "b")
        eventually(_live(second, tmp_path / "b" / "run", layout, 300), timeout=90,
                   interval=0.5)
        os.kill(first.pid, signal.SIGCONT)
        out, err = first.communicate(timeout=90)

        assert first.returncode == 3, err[-3000:]
        run = json.loads((tmp_path / "a" / "run" / "run.json").read_text())
        assert run["status"] == "aborted" and run["lease_token"] == 1
        assert run["abort_reason"].startswith("lease lost at +"), run["abort_reason"]
        assert "left to the environment's new holder" in run["abort_reason"]
        index = (tmp_path / "a" / "run" / "index.html").read_text()
        assert "lease lost at +" in index and "lease token 1" in index
        # The second game day's fault was left alone: still live, on the target.
        assert 300 <= db_query_ms(layout) < 1500
        assert second.poll() is None

        out, err = second.communicate(timeout=120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.kill()
                proc.wait()
    assert second.returncode in (0, 1), err[-3000:]
    run = json.loads((tmp_path / "b" / "run" / "run.json").read_text())
    assert run["status"] == "completed" and run["lease_token"] == 3  # after recover's 2
    assert db_query_ms(layout) < 300  # its own rollback ran, at its own end
    assert open_ledger({"edx_environment": str(env_file)}).pending() == []

