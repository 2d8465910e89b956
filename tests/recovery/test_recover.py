"""A runner SIGKILLed in the middle of a fault leaves its rollback; `recover` runs it."""

import json
import os
import signal
import subprocess
import sys

from chaoslib_edx.recovery.ledger import Ledger
from chaoslib_edx.sandbox.supervisor import Supervisor
from tests.conftest import REPO, run_cli
from tests.sandbox.helpers import eventually


def test_sigkill_mid_failover_then_recover(sandbox, tmp_path) -> None:
    config = sandbox.configuration(tmp_path)
    ledger = Ledger(config["edx_ledger"])
    code = ("import json, sys; from chaoslib_edx.rds.actions import failover_database; "
            "failover_database('edxapp', downtime_seconds=60, configuration=json.loads(sys.argv[1]))")
    runner = subprocess.Popen([sys.executable, "-c", code, json.dumps(config)], cwd=REPO)
    sup = Supervisor(sandbox.layout)
    try:
        # The fault is live: its rollback is on disk and the primary is down.
        eventually(lambda: ledger.pending() and sup.process("db-a")["statename"] == "STOPPED",
                   timeout=30)
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    assert runner.returncode == -signal.SIGKILL
    assert sandbox.status()["state"] == "degraded"
    assert len(ledger.pending()) == 1

    result = run_cli("recover", "--env", str(sandbox.env_file), "--ledger", config["edx_ledger"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restore_database" in result.stdout and "ok" in result.stdout
    assert ledger.pending() == []
    status = sandbox.status()
    assert status["state"] == "healthy", status
    assert status["checks"]["db"]["primary"] == "db-a"

    again = run_cli("recover", "--env", str(sandbox.env_file), "--ledger", config["edx_ledger"])
    assert again.returncode == 0 and "nothing pending" in again.stdout
