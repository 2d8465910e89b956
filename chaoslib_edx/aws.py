"""Explicit boto3 clients for the aws drivers (no process-wide default session).

Credentials come from Chaos Toolkit secrets (chaosaws' keys) or the usual AWS chain;
AWS_ENDPOINT_URL (botocore >= 1.31) points every client at e.g. a local moto server.
"""

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
