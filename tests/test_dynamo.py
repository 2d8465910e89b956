"""The DynamoDB lease that locks an environment for runners on many machines, against
moto's server on 127.0.0.1: refused while held and renewed, freed on release, and freed
by expiry when its holder dies without releasing."""

import os
import signal
import subprocess
import sys
import time

import boto3
import pytest
import yaml

from chaoslib_edx.dynamo import DynamoLease
from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.lock import environment_lock
from chaoslib_edx.ledger import open_ledger
from chaoslib_edx.recovery.recover import recover
from tests.aws import REGION, dynamodb_table
from tests.conftest import REPO

HOLD = """
import sys, time
import boto3
from chaoslib_edx.dynamo import DynamoLease
lease = DynamoLease(boto3.client("dynamodb", region_name=sys.argv[2]), sys.argv[1], "staging",
                    float(sys.argv[3])).acquire("runs/holder")
print("held", flush=True)
time.sleep(120)
"""


def _lease(table: str, lease_s: float = 2.0) -> DynamoLease:
    return DynamoLease(boto3.client("dynamodb", region_name=REGION), table, "staging", lease_s)


def test_a_held_lease_is_renewed_and_refuses_others(aws_env, tmp_path) -> None:
    table = dynamodb_table("lease-renewed")
    held = _lease(table).acquire("runs/first")
    try:
        time.sleep(3)  # past one lease length: only renewal keeps it
        with pytest.raises(UserError) as refused:
            _lease(table).acquire("runs/second")
        assert "in use by another game day" in str(refused.value)
        assert "runs/first" in str(refused.value)
    finally:
        held.release()
    _lease(table).acquire("runs/third").release()  # released: free at once


def test_a_dead_holders_lease_expires(aws_env, tmp_path) -> None:
    table = dynamodb_table("lease-expires")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, table, REGION, "2"], cwd=REPO,
                              stdout=subprocess.PIPE, text=True, env=os.environ)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError):
            _lease(table).acquire("runs/too-early")
    finally:
        holder.send_signal(signal.SIGKILL)  # no release, no clean-up: renewals stop
        holder.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            _lease(table).acquire("runs/after-expiry").release()
            break
        except UserError:
            assert time.monotonic() < deadline, "the dead holder's lease never expired"
            time.sleep(0.25)


def test_an_inventory_names_the_table_for_lock_and_ledger(aws_env, tmp_path) -> None:
    """Lock and ledger come from the inventory's state section: recover is refused while
    another runner holds the lease, wherever it runs, and reads the same ledger."""
    table = dynamodb_table("state-from-inventory")
    env = tmp_path / "staging.yaml"
    env.write_text(yaml.safe_dump({"name": "staging", "kind": "staging", "driver": "aws",
                                   "aws": {"region": REGION},
                                   "state": {"backend": "dynamodb", "table": table}}))
    configuration = {"edx_environment": str(env)}
    ledger = open_ledger(configuration)
    assert ledger.where == f"dynamodb table {table}, environment staging"
    lock = environment_lock(configuration).acquire("runs/live")
    try:
        with pytest.raises(UserError, match="in use by another game day"):
            recover(str(env))
    finally:
        lock.release()
    assert recover(str(env)).results == []  # nothing pending, and the lease is free again
