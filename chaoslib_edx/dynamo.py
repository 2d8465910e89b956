"""An environment's lock in a DynamoDB table, and the client its ledger uses there, for
runners on many machines (the ledger's storage is ledger.DynamoLedger).

Every CI job, laptop and Kubernetes pod that acts on one environment reaches the same
table (key schema: partition key `pk`, sort key `sk`, both strings):
- the ledger: one item per ledger line under pk `ledger#<environment>`, sorted by time;
  a line is durable once DynamoDB acknowledged the put, as a file line is once fsynced;
- the lock: one item `lock#<environment>`, a lease taken by a conditional put that only
  succeeds when no unexpired lease exists, renewed every third of its length while held.
  A holder that dies stops renewing: its lease expires and the next runner takes it.
"""

import json
import socket
import threading
import time
import uuid
from pathlib import Path

from botocore.exceptions import ClientError

from chaoslib_edx import aws
from chaoslib_edx.environment import Environment
from chaoslib_edx.errors import UserError


def client_for(environment: Environment, env_file: str):
    """A DynamoDB client for the environment's state table (its region and credentials)."""
    region = environment.state.region or (environment.aws.region if environment.aws else None)
    if region is None:
        raise UserError("the dynamodb state backend needs a region", file=env_file,
                        field="state.region", fix="Set state.region, or an aws section")
    return aws.session_for(aws.settings_of(environment.aws, region=region)).client("dynamodb")


def _conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoLease:
    """The environment lock as a lease (same interface as gameday.lock.EnvironmentLock)."""

    def __init__(self, client: object, table: str, environment: str, lease_s: float) -> None:
        self.client, self.table, self.environment = client, table, environment
        self.lease_s = lease_s
        self._owner = uuid.uuid4().hex
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @classmethod
    def of(cls, environment: Environment, env_file: str) -> "DynamoLease":
        return cls(client_for(environment, env_file), environment.state.table, environment.name,
                   environment.state.lease_s)

    @property
    def _key(self) -> dict:
        return {"pk": {"S": f"lock#{self.environment}"}, "sk": {"S": "lock"}}

    def acquire(self, run_dir: Path | str) -> "DynamoLease":
        """Take the lease or raise a UserError naming the holder; nothing else is touched."""
        now = time.time()
        holder = json.dumps({"run_dir": str(run_dir), "since": time.strftime(
            "%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname()})
        try:
            self.client.put_item(
                TableName=self.table,
                Item={**self._key, "owner": {"S": self._owner}, "holder": {"S": holder},
                      "expires": {"N": f"{now + self.lease_s:.3f}"}},
                ConditionExpression="attribute_not_exists(pk) OR expires < :now",
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}})
        except ClientError as error:
            if not _conditional_failure(error):
                raise
            item = self.client.get_item(TableName=self.table, Key=self._key,
                                        ConsistentRead=True).get("Item", {})
            raise UserError(
                f"the environment '{self.environment}' is in use by another game day "
                f"({item.get('holder', {}).get('S', 'another runner')}, lease until "
                f"{time.strftime('%H:%M:%S', time.gmtime(float(item['expires']['N'])))} UTC)"
                if item else f"the environment '{self.environment}' is in use",
                file=f"dynamodb table {self.table}", field=f"lock#{self.environment}",
                fix="Wait for that run to end, or stop it (SIGTERM rolls it back); a holder "
                    "that died frees the lease when it expires") from None
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="lease-renewer", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.client.update_item(
                    TableName=self.table, Key=self._key, UpdateExpression="SET expires = :t",
                    ConditionExpression="#o = :me", ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues={":t": {"N": f"{time.time() + self.lease_s:.3f}"},
                                               ":me": {"S": self._owner}})
            except ClientError as error:
                if _conditional_failure(error):
                    return  # the lease was lost (expired and taken): nothing left to renew
            except Exception:  # a network blip: the next beat tries again within the lease
                continue

    def last_holder(self) -> None:
        """Leases expire instead: a dead holder's run is found by `report` (its pid)."""
        return None

    def probe(self) -> None:
        """Raise the same UserError as acquire when the lease is held; keep nothing."""
        self.acquire("(a dry run's probe)").release()

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None
        try:
            self.client.delete_item(TableName=self.table, Key=self._key,
                                    ConditionExpression="#o = :me",
                                    ExpressionAttributeNames={"#o": "owner"},
                                    ExpressionAttributeValues={":me": {"S": self._owner}})
        except ClientError as error:
            if not _conditional_failure(error):
                raise

