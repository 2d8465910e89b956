"""The lease of an environment whose state lives in a DynamoDB table, for runners on
many machines (CI jobs, laptops, Kubernetes pods).

One item, `lock#<environment>`, holds the current grant: its fencing token (a number that
only grows: each grant adds one in a conditional write), a record version that changes at
every renewal, the owner and a note naming the holder. Expiry is observed, not trusted,
as DynamoDB's own lock client does it: a taker watches the record version, and takes over
only after seeing it unchanged for lease_s + grace_s on its own monotonic clock. No
decision compares timestamps that two machines wrote.

The holder renews every sixth of lease_s, so a renewal that is late or lost once still
leaves another before its deadline: a renewal the table refuses (the grant is no longer
its own) loses the lease at once, and half a lease without a successful renewal (an
unreachable table, a paused process) loses it too, well before anyone may take over.
"""

import json
import threading
import time
import uuid

from botocore.exceptions import ClientError

from chaoslib_edx.dynamo import conditional_failure
from chaoslib_edx.lease.base import Lease, LeaseHeld, Say, held_message, who

_FIX = ("Wait for that run to end, or stop it (SIGTERM rolls it back); a holder that died "
        "stops renewing, and its lease is taken over once it has not been renewed for "
        "state.lease_s + state.grace_s")


class DynamoLease(Lease):
    def __init__(self, client: object, table: str, environment: str, lease_s: float,
                 grace_s: float) -> None:
        super().__init__(environment)
        self.client, self.table = client, table
        self.lease_s, self.grace_s = float(lease_s), float(grace_s)
        self._owner = uuid.uuid4().hex
        self._renewed = 0.0  # time.monotonic() before the last renewal the table accepted
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def where(self) -> str:
        return f"dynamodb table {self.table}"

    @property
    def _key(self) -> dict:
        return {"pk": {"S": f"lock#{self.environment}"}, "sk": {"S": "lock"}}

    @property
    def _poll_s(self) -> float:
        return min(1.0, self.lease_s / 12)

    def _read(self) -> dict | None:
        return self.client.get_item(TableName=self.table, Key=self._key,
                                    ConsistentRead=True).get("Item")

    # -- taking it -----------------------------------------------------------------------

    def acquire(self, holder: dict, say: Say | None = None) -> int:
        seen: tuple[dict, float] | None = None  # (record version, when first seen)
        while True:
            item = self._read()
            if _free(item):
                if self._grant(item, holder):
                    return self._start()
                continue  # another runner was quicker: look again
            now, version = time.monotonic(), _version(item)
            wait = self._takeover_after(item)
            if seen is None:
                seen = (version, now)
                if say is not None:
                    say(f"{held_message(self.environment, _holder(item))}; watching its "
                        f"lease: it is taken over if not renewed within {wait:g} s")
            elif version != seen[0]:
                raise self._refused_live(item)
            elif now - seen[1] >= wait:
                if self._grant(item, holder):
                    self.took_over = _holder(item)
                    return self._start()
                continue
            time.sleep(self._poll_s)

    def _refused_live(self, item: dict) -> LeaseHeld:
        """The refusal when the holder of ITEM renewed it while we watched: it is alive."""
        return LeaseHeld(self.environment, _holder(item), "its lease was renewed while we "
                         "watched", file=self.where, field=f"lock#{self.environment}", fix=_FIX)

    def _takeover_after(self, item: dict) -> float:
        """How long a held record must stay unrenewed before it may be taken over: the
        longer of the holder's lease and ours, and the grace."""
        return max(self.lease_s, float(item.get("lease_s", {}).get("N", 0))) + self.grace_s

    def _grant(self, item: dict | None, holder: dict) -> bool:
        """One conditional write: the grant, if the record is still the one read (absent,
        or the version seen); the token is the record's plus one. False on a lost race."""
        version = uuid.uuid4().hex
        if item is None:
            condition, names, values = "attribute_not_exists(pk)", {}, {}
        else:
            attribute, value = next(iter(_version(item).items()))
            condition, names, values = "#seen = :seen", {"#seen": attribute}, {":seen": value}
        sent = time.monotonic()
        try:
            reply = self.client.update_item(
                TableName=self.table, Key=self._key,
                UpdateExpression="SET #o = :me, version = :v, holder = :h, lease_s = :l "
                                 "ADD #t :one REMOVE released, expires",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#o": "owner", "#t": "token", **names},
                ExpressionAttributeValues={
                    ":me": {"S": self._owner}, ":v": {"S": version}, ":one": {"N": "1"},
                    ":h": {"S": json.dumps(holder)}, ":l": {"N": f"{self.lease_s:g}"},
                    **values},
                ReturnValues="UPDATED_NEW")
        except ClientError as error:
            if conditional_failure(error):
                return False
            raise
        self.token = int(reply["Attributes"]["token"]["N"])
        self._renewed = sent
        return True

    def _start(self) -> int:
        self.lost = self.lost_at = None
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="lease-renewer", daemon=True)
        self._renewer.start()
        return self.token

    def probe(self, say: Say | None = None) -> str:
        item = self._read()
        if _free(item):
            token = int((item or {}).get("token", {}).get("N", 0))
            return f"lease: free ({self.where}; the last grant's token {token})"
        # A live holder renews every sixth of its lease: watching half of one shows it.
        version, watch = _version(item), self._takeover_after(item) - self.grace_s
        if say is not None:
            say(f"{held_message(self.environment, _holder(item))}; watching its lease "
                f"{watch / 2:g} s")
        end = time.monotonic() + watch / 2
        while time.monotonic() < end:
            time.sleep(self._poll_s)
            item = self._read()
            if _free(item):
                return "lease: free (released while we watched)"
            if _version(item) != version:
                raise self._refused_live(item)
        return (f"lease: {held_message(self.environment, _holder(item))}, not renewed in the "
                f"{watch / 2:g} s watched: a run watches it {self._takeover_after(item):g} s, "
                "then takes it over")

    # -- holding it ----------------------------------------------------------------------

    def _renew(self) -> None:
        """Renew every sixth of the lease; lose it when the table refuses, or when half a
        lease passed without a renewal it accepted (a paused process notices at once)."""
        every = self.lease_s / 6
        while not self._stop.wait(self._poll_s):
            now = time.monotonic()
            if now - self._renewed > self.lease_s / 2:
                self._lose(f"no renewal succeeded for {now - self._renewed:.0f} s (more than "
                           f"half the {self.lease_s:g} s lease)")
                return
            if now - self._renewed < every:
                continue
            try:
                self.client.update_item(
                    TableName=self.table, Key=self._key, UpdateExpression="SET version = :v",
                    ConditionExpression="#o = :me AND #t = :tok AND attribute_not_exists("
                                        "released)",
                    ExpressionAttributeNames={"#o": "owner", "#t": "token"},
                    ExpressionAttributeValues={":v": {"S": uuid.uuid4().hex},
                                               ":me": {"S": self._owner},
                                               ":tok": {"N": str(self.token)}})
                self._renewed = now
            except ClientError as error:
                if conditional_failure(error):
                    self._lose("the table refused its renewal: the lease was taken over")
                    return
            except Exception:  # unreachable for now: retried until half a lease has passed
                continue

    def _current(self) -> str | None:
        idle = time.monotonic() - self._renewed
        if idle > self.lease_s / 2:
            return f"no renewal succeeded for {idle:.0f} s (more than half the lease)"
        item = self._read()
        if item is None or item.get("owner", {}).get("S") != self._owner \
                or int(item.get("token", {}).get("N", 0)) != self.token or _free(item):
            now = int((item or {}).get("token", {}).get("N", 0))
            return (f"its fencing token {self.token} is not the current one ({now}, held by "
                    f"{who(_holder(item))})")
        return None

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None
        if self.lost is not None or self.token is None:
            return  # the lease is someone else's now: nothing of ours to give back
        try:  # the item stays, so the next grant's token is greater than this one
            self.client.update_item(
                TableName=self.table, Key=self._key,
                UpdateExpression="SET released = :yes, version = :v",
                ConditionExpression="#o = :me AND #t = :tok",
                ExpressionAttributeNames={"#o": "owner", "#t": "token"},
                ExpressionAttributeValues={":yes": {"BOOL": True}, ":v": {"S": uuid.uuid4().hex},
                                           ":me": {"S": self._owner},
                                           ":tok": {"N": str(self.token)}})
        except ClientError as error:
            if not conditional_failure(error):
                raise


def _free(item: dict | None) -> bool:
    return item is None or bool(item.get("released", {}).get("BOOL"))


def _version(item: dict) -> dict:
    """The attribute a taker watches, as DynamoDB types it: the record version (a lease
    from before fencing tokens renewed its `expires` instead)."""
    if "version" in item:
        return {"version": item["version"]}
    return {"expires": item.get("expires", {"N": "0"})}


def _holder(item: dict | None) -> dict | None:
    try:
        return json.loads((item or {}).get("holder", {}).get("S", "null"))
    except ValueError:
        return None
