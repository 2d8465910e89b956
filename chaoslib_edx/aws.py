"""Explicit boto3 clients for the aws drivers (no process-wide default session).

Credentials come from Chaos Toolkit secrets (chaosaws' keys) or the usual AWS chain;
AWS_ENDPOINT_URL (botocore >= 1.31) points every client at e.g. a local moto server.
"""

from collections.abc import Callable

import boto3
from chaosaws import get_credentials
from chaoslib.types import Secrets

from chaoslib_edx.targets import Target
from chaoslib_edx.waiting import wait_until


def client(service: str, target: Target, secrets: Secrets | None = None):
    session = boto3.session.Session(region_name=target.environment.aws.region)
    return session.client(service, **get_credentials(secrets))


def chaosaws_configuration(target: Target) -> dict:
    """The configuration chaosaws' own activities read."""
    return {"aws_region": target.environment.aws.region}


def wait_for_status(state: Callable[[], str], wanted: str, what: str, timeout_s: float) -> str:
    """Poll STATE until it returns WANTED, backing off from 1 s to 15 s between API calls."""
    return wait_until(state, until=lambda current: current == wanted, timeout=timeout_s,
                      what=f"{what} '{wanted}'", interval=1.0, max_interval=15.0)
