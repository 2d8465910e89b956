"""The IAM policy for the AWS faults (deploy/aws/iam-policy.json) against the calls our
code makes: the AWS tests run again in their own pytest, with every boto3 call our
package makes recorded (tests/awscalls.py), and the policy must allow exactly those,
plus what AWS checks beside a call (IMPLIED), and nothing else."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration
POLICY = REPO / "deploy" / "aws" / "iam-policy.json"
# The tests that drive every AWS call of ours against moto's server: the faults' actions,
# rollbacks and probes, the DynamoDB lease and ledger, detection, saturation, the upload.
AWS_TESTS = ["tests/rds/test_aws.py", "tests/cache/test_aws.py", "tests/cdn/test_aws.py",
             "tests/dblatency/test_aws.py", "tests/zone/test_aws.py",
             "tests/lease/test_dynamo.py",
             "tests/recovery/test_ledger.py",
             "tests/detection/test_cloudwatch.py", "tests/detection/test_cloud.py",
             "tests/capacity/test_saturation.py", "tests/report/test_upload.py",
             "tests/test_aws.py"]
# Checked by AWS beside a call, so never a call of their own.
IMPLIED = {"fis:TagResource": "StartExperiment with tags (our run id) needs it"}
# Actions without resource-level permissions: only "*" can name their resource.
NO_RESOURCE_LEVEL = {"fis:ListExperiments", "cloudwatch:GetMetricStatistics",
                     "cloudwatch:GetMetricData"}


def _statements() -> list[dict]:
    return json.loads(POLICY.read_text())["Statement"]


def _allowed() -> set[str]:
    actions = set()
    for statement in _statements():
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


@pytest.fixture(scope="module")
def calls(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("aws-calls") / "calls.txt"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.awscalls", "-p", "no:cacheprovider",
         # The shipped experiment's end-to-end run makes the same calls as the swap test;
         # the lease tests of other processes' clocks make theirs outside this pytest.
         "--deselect", "tests/cdn/test_aws.py::test_the_shipped_experiment_runs_end_to_end",
         "-k", "not clock_offset and not dead_holder",
         *AWS_TESTS], cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "EDX_AWS_CALLS": str(out)})
    assert result.returncode == 0, result.stdout[-3000:]
    return set(out.read_text().split())


def test_the_policy_allows_exactly_the_calls_our_code_makes(calls):
    assert {"rds:RebootDBInstance", "elasticache:RebootCacheCluster",
            "cloudfront:UpdateDistribution", "fis:StartExperiment"} <= calls  # all faults ran
    allowed = _allowed()
    assert sorted(calls - allowed) == [], "calls the policy would deny"
    assert sorted(allowed - calls - set(IMPLIED)) == [], "permissions no code of ours uses"


def test_the_policy_is_least_privilege_in_its_form():
    for statement in _statements():
        assert statement["Effect"] == "Allow" and "NotAction" not in statement
        actions = statement["Action"]
        assert all("*" not in action for action in actions), statement["Sid"]
        resources = statement["Resource"]
        if "*" in ([resources] if isinstance(resources, str) else resources):  # any resource
            assert set(actions) <= NO_RESOURCE_LEVEL, statement["Sid"]
