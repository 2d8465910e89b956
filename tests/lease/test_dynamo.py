"""The DynamoDB lease that gives one runner at a time an environment, runners on many
machines, against moto's server on 127.0.0.1: refused while its holder renews, taken over
only after a taker has watched it unrenewed for lease_s + grace_s on its own clock
(whatever the machines' wall clocks say), lost by a holder that was paused past that,
and every grant's token greater than the last."""

import os
import signal
import subprocess
import sys
import time

import boto3
import pytest
import yaml

from chaoslib_edx import lease
from chaoslib_edx.lease.dynamo import DynamoLease
from chaoslib_edx.ledger import open_ledger
from chaoslib_edx.recovery.recover import recover
from tests.aws import REGION, dynamodb_table
from tests.conftest import REPO, one_paragraph, run_cli

pytestmark = pytest.mark.integration

HOLD = """
import sys, time
import boto3
from chaoslib_edx.lease.dynamo import DynamoLease
table, region, lease_s, grace_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
lease = DynamoLease(boto3.client("dynamodb", region_name=region), table, "staging", lease_s,
                    grace_s)
lease.on_lost(lambda reason: print("lost:", reason, flush=True))
print("held", lease.acquire({"label": "holder"}), flush=True)
time.sleep(120)
"""
TAKE = """
import sys, time
import boto3
from chaoslib_edx.lease.dynamo import DynamoLease
table, region, lease_s, grace_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
lease = DynamoLease(boto3.client("dynamodb", region_name=region), table, "staging", lease_s,
                    grace_s)
print("watching", flush=True)
print("took", lease.acquire({"label": "taker"}), flush=True)
"""


def _lease(table: str, lease_s: float = 3.0, grace_s: float = 1.0) -> DynamoLease:
    return DynamoLease(boto3.client("dynamodb", region_name=REGION), table, "staging", lease_s,
                       grace_s)


def _python(script: str, *args: object, clock: str | None = None) -> subprocess.Popen:
    """SCRIPT in its own process; under libfaketime with CLOCK ('+40s') when given, which
    shifts both its wall clock and its monotonic clock."""
    command = [sys.executable, "-c", script, *map(str, args)]
    if clock:
        command = ["faketime", "-f", clock, *command]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True,
                            env=os.environ)


def test_a_renewed_lease_is_refused_quickly_and_a_release_keeps_the_count(aws_env) -> None:
    table = dynamodb_table("lease-renewed")
    held = _lease(table)
    assert held.acquire({"label": "runs/first"}) == 1
    try:
        time.sleep(4)  # past one lease length: only renewals keep it (time is the condition)
        held.check()
        began = time.monotonic()
        with pytest.raises(lease.LeaseHeld) as refused:
            _lease(table).acquire({"label": "runs/second"})
        assert time.monotonic() - began < 3  # a renewal came within a third of the lease
        assert "in use by runs/first" in str(refused.value)
        assert "renewed while we watched" in str(refused.value)
    finally:
        held.release()
    began = time.monotonic()
    third = _lease(table)
    assert third.acquire({"label": "runs/third"}) == 2  # released: free at once
    assert time.monotonic() - began < 1
    third.release()


def test_a_dead_holders_lease_is_taken_over_after_lease_plus_grace(aws_env) -> None:
    table = dynamodb_table("lease-dead-holder")
    holder = _python(HOLD, table, REGION, 3, 2)
    assert holder.stdout.readline().split() == ["held", "1"]
    holder.send_signal(signal.SIGKILL)  # no release, no clean-up: renewals stop
    holder.wait()
    taker = _lease(table, lease_s=3, grace_s=2)
    began = time.monotonic()
    assert taker.acquire({"label": "runs/after"}) == 2
    waited = time.monotonic() - began
    assert 5 <= waited < 8, waited
    assert taker.took_over["label"] == "holder"  # whose lease it took
    taker.release()


@pytest.mark.parametrize("offset", ["+40s", "-40s"])
def test_a_takers_clock_offset_does_not_move_the_takeover(aws_env, offset) -> None:
    """The holder is paused (SIGSTOP); a taker whose clocks (wall and monotonic) are 40 s
    off takes over neither before nor long after lease_s + grace_s of watching. Resumed,
    the holder notices at once that it lost the lease."""
    table = dynamodb_table(f"lease-clock-{offset[0] == '+' and 'ahead' or 'behind'}")
    holder = _python(HOLD, table, REGION, 4, 2)
    assert holder.stdout.readline().split() == ["held", "1"]
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        taker = _python(TAKE, table, REGION, 4, 2, clock=offset)
        assert taker.stdout.readline().strip() == "watching"
        began = time.monotonic()
        assert taker.stdout.readline().split() == ["took", "2"]
        waited = time.monotonic() - began
        assert 6 <= waited < 10, waited
        taker.wait(timeout=10)
    finally:
        os.kill(holder.pid, signal.SIGCONT)
    try:
        began = time.monotonic()
        lost = holder.stdout.readline()
        assert lost.startswith("lost: no renewal succeeded for"), lost
        assert time.monotonic() - began < 2
    finally:
        holder.kill()
        holder.wait()


def test_a_lease_written_before_fencing_tokens_is_watched_not_trusted(aws_env) -> None:
    """The previous version's item (an `expires` timestamp its holder's clock wrote, an
    hour ahead of ours): not trusted, watched; unrenewed, it is taken over after
    lease_s + grace_s, with the first token."""
    table = dynamodb_table("lease-legacy-item")
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=table, Item={
        "pk": {"S": "lock#staging"}, "sk": {"S": "lock"}, "owner": {"S": "old"},
        "holder": {"S": '{"run_dir": "runs/old"}'}, "expires": {"N": f"{time.time() + 3600}"}})
    taker = _lease(table, lease_s=3, grace_s=1)
    began = time.monotonic()
    assert taker.acquire({"label": "new"}) == 1
    # Never before lease_s + grace_s of watching; the 3 s above it are for moto's answers
    # on a busy machine (a taker that trusted `expires` would wait an hour).
    assert 4 <= time.monotonic() - began < 7
    assert taker.took_over == {"run_dir": "runs/old"}
    taker.release()


def test_an_inventory_names_the_table_for_lease_and_ledger(aws_env, tmp_path) -> None:
    """Lease and ledger come from the inventory's state section: recover is refused while
    another runner holds (and renews) the lease, wherever it runs, and reads the same
    ledger."""
    table = dynamodb_table("state-from-inventory")
    env = tmp_path / "staging.yaml"
    env.write_text(yaml.safe_dump({"name": "staging", "kind": "staging", "driver": "aws",
                                   "aws": {"region": REGION},
                                   "state": {"backend": "dynamodb", "table": table,
                                             "lease_s": 5, "grace_s": 1}}))
    configuration = {"edx_environment": str(env)}
    ledger = open_ledger(configuration)
    assert ledger.where == f"dynamodb table {table}, environment staging"
    run = lease.begin(configuration, "game day 'live'", run_dir=tmp_path / "live")
    try:
        refused = run_cli("recover", "--env", str(env))
    finally:
        lease.end(run)
    assert refused.returncode == 2, refused.stderr
    assert "in use by game day 'live'" in one_paragraph(refused.stderr)
    assert "renewed while we watched" in one_paragraph(refused.stderr)
    assert recover(str(env)).results == []  # nothing pending, and the lease is free again
