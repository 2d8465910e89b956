"""Explicit boto3 sessions for the aws drivers (no process-wide default session).

Credentials come from Chaos Toolkit secrets (chaosaws' keys) or the usual AWS chain,
under a named profile and an assumed role when the experiment's configuration
(`aws_profile_name`, `aws_assume_role_arn`, as chaosaws reads them) or else the inventory
(`aws.profile_name`, `aws.assume_role_arn`) names them; `recover` has only the latter.
AWS_ENDPOINT_URL (botocore >= 1.31) points every client at e.g. a local moto server.
"""

import math
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3
from chaosaws import get_credentials
from chaoslib.types import Secrets

from chaoslib_edx.context import Settings
from chaoslib_edx.waiting import wait_until

if TYPE_CHECKING:  # the ledger's DynamoDB backend uses sessions without targets
    from chaoslib_edx.targets import Target

SESSION_NAME = "chaostoolkit-edx"
_REFRESH_S = 300  # re-assume a role this long before its credentials expire
_assumed: dict[tuple, tuple[boto3.session.Session, float]] = {}  # sessions, until expiry
# What else a new session would read: a changed endpoint or key makes a new session.
_AWS_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION")
_clients: dict[tuple[int, str], tuple[boto3.session.Session, object]] = {}
_assumed_lock = threading.Lock()


def chaosaws_configuration(target: "Target") -> dict:
    """Region, profile and role as chaosaws' own activities read them."""
    return settings_of(target.environment.aws, Settings.of(target.configuration))


def settings_of(inventory: object, run: Settings | None = None,
                region: str | None = None) -> dict:
    """The inventory's aws section (None: none) with the run's profile and role on top,
    as chaosaws reads them."""
    settings = {"aws_region": region or getattr(inventory, "region", None),
                "aws_profile_name": run and run.aws_profile_name
                or getattr(inventory, "profile_name", None),
                "aws_assume_role_arn": run and run.aws_assume_role_arn
                or getattr(inventory, "assume_role_arn", None),
                "aws_assume_role_session_name": run and run.aws_assume_role_session_name
                or SESSION_NAME}
    return {key: value for key, value in settings.items() if value}


def session(target: "Target", secrets: Secrets | None = None) -> boto3.session.Session:
    """A session under the target's profile and, if one is named, its assumed role
    (reused until shortly before the role's credentials expire)."""
    return session_for(chaosaws_configuration(target), secrets)


def session_for(settings: dict, secrets: Secrets | None = None) -> boto3.session.Session:
    """A session for chaosaws-style SETTINGS (aws_region, aws_profile_name, role keys),
    the same one for the same settings, secrets and AWS_* environment (an assumed role's
    until shortly before its credentials expire): its clients are made once per service."""
    region = settings["aws_region"]
    role = settings.get("aws_assume_role_arn")
    key = (role, settings.get("aws_assume_role_session_name"), settings.get("aws_profile_name"),
           region, tuple(sorted(get_credentials(secrets).items())),
           tuple(os.environ.get(name) for name in _AWS_ENVIRONMENT))
    with _assumed_lock:
        cached = _assumed.get(key)
        if cached is not None and cached[1] - _REFRESH_S > time.time():
            return cached[0]
        base = boto3.session.Session(profile_name=settings.get("aws_profile_name"),
                                     region_name=region, **get_credentials(secrets))
        if not role:
            _assumed[key] = (base, math.inf)
            return base
        credentials = base.client("sts").assume_role(
            RoleArn=role, RoleSessionName=settings["aws_assume_role_session_name"])["Credentials"]
        assumed = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"], region_name=region)
        _assumed[key] = (assumed, credentials["Expiration"].timestamp())
        return assumed


def client(service: str, target: "Target", secrets: Secrets | None = None):
    """The target's client of SERVICE: one per service and session, so one per run."""
    return client_of(session(target, secrets), service)


def client_of(owner: boto3.session.Session, service: str):
    """OWNER's client of SERVICE, made once (boto3 clients are thread-safe)."""
    with _assumed_lock:
        key = (id(owner), service)
        if key not in _clients:
            _clients[key] = (owner, owner.client(service))  # the session kept: ids stay
        return _clients[key][1]


def wait_for_status(state: Callable[[], str], wanted: str, what: str, timeout_s: float) -> str:
    """Poll STATE until it returns WANTED, backing off from 1 s to 15 s between API calls."""
    return wait_until(state, until=lambda current: current == wanted, timeout=timeout_s,
                      what=f"{what} '{wanted}'", interval=1.0, max_interval=15.0)
