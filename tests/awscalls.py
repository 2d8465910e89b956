"""A pytest plugin (-p tests.awscalls) that records every AWS API call our package makes,
directly or through chaosaws, as IAM would see it ("rds:RebootDBInstance"), to the file
$EDX_AWS_CALLS. botocore's client is wrapped to observe, not to answer: the calls still go
to moto's server. Calls a test makes itself to set things up are left out (no frame of
chaoslib_edx on their stack)."""

import os
import sys
from pathlib import Path

import botocore.client

PACKAGE = str(Path(__file__).resolve().parent.parent / "chaoslib_edx")
_calls: set[str] = set()


def _ours() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(PACKAGE):
            return True
        frame = frame.f_back
    return False


def pytest_configure(config) -> None:
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name: str, api_params: dict):
        if _ours():
            service = self.meta.service_model.service_id.replace(" ", "").lower()
            _calls.add(f"{service}:{operation_name}")
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording


def pytest_unconfigure(config) -> None:
    Path(os.environ["EDX_AWS_CALLS"]).write_text("".join(f"{c}\n" for c in sorted(_calls)))
