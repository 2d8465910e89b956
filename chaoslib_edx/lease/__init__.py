"""One holder per environment, proved: a lease whose every grant carries a strictly
increasing fencing token, checked before each fault and each rollback.

base (the shared shape and errors), local (an flock and a counter beside it), dynamo
(a DynamoDB item whose expiry a taker observes on its own clock), runs (who holds it:
a game day, a `chaos run`, `recover`, or a process acting itself).
"""

from chaoslib_edx.lease.base import Lease, LeaseHeld, LeaseLost
from chaoslib_edx.lease.runs import Run, begin, current, end, environment_lease, fenced, holding

__all__ = ["Lease", "LeaseHeld", "LeaseLost", "Run", "begin", "current", "end",
           "environment_lease", "fenced", "holding"]
