"""The DynamoDB state table an environment's lease and ledger share, for runners on many
machines (lease.dynamo.DynamoLease, ledger.DynamoLedger).

Every CI job, laptop and Kubernetes pod that acts on one environment reaches the same
table (key schema: partition key `pk`, sort key `sk`, both strings): the lease is one item
`lock#<environment>`, the ledger one item per line under `ledger#<environment>`.
"""

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
    return aws.client_of(aws.session_for(aws.settings_of(environment.aws, region=region)),
                         "dynamodb")


def conditional_failure(error: ClientError) -> bool:
    """Whether DynamoDB refused a write because its condition did not hold."""
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"
