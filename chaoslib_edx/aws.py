"""Explicit boto3 clients for the aws drivers (no process-wide default session).

Credentials come from Chaos Toolkit secrets (chaosaws' keys) or the usual AWS chain;
AWS_ENDPOINT_URL (botocore >= 1.31) points every client at e.g. a local moto server.
"""

import time
from typing import Callable

import boto3
from chaosaws import get_credentials
from chaoslib.types import Secrets

from chaoslib_edx.targets import Target


def client(service: str, target: Target, secrets: Secrets | None = None):
    session = boto3.session.Session(region_name=target.environment.aws.region)
    return session.client(service, **get_credentials(secrets))


def chaosaws_configuration(target: Target) -> dict:
    """The configuration chaosaws' own activities read."""
    return {"aws_region": target.environment.aws.region}


def wait_until(state: Callable[[], str], wanted: str, what: str, timeout_s: float) -> str:
    """Poll STATE until it returns WANTED, backing off from 1 s to 15 s between calls."""
    deadline, pause = time.monotonic() + timeout_s, 1.0
    while (current := state()) != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still '{current}' after {timeout_s:.0f}s "
                               f"(waiting for '{wanted}')")
        time.sleep(pause)
        pause = min(15.0, pause * 2)
    return current
