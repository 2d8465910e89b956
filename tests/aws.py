"""A moto server on 127.0.0.1 as the AWS endpoint, and its request recorder.

boto3 and chaosaws reach it over HTTP through AWS_ENDPOINT_URL; the recorder shows the
requests as the server received them.
"""

import base64
import json
import os
import urllib.request
from pathlib import Path

import pytest
import yaml
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

REGION = "eu-west-1"


class MotoEndpoint:
    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, path: str, method: str = "POST") -> bytes:
        request = urllib.request.Request(f"{self.url}/moto-api/recorder/{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def start_recording(self) -> None:
        self._call("reset-recording")
        self._call("start-recording")

    def recorded(self) -> list[dict]:
        """Requests since start_recording, bodies decoded."""
        self._call("stop-recording")
        lines = self._call("download-recording", "GET").decode().splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
        for request in requests:
            if request.get("body_encoded"):
                request["body"] = base64.b64decode(request["body"]).decode(errors="replace")
            request["body"] = request.get("body") or ""
        return requests


def dynamodb_table(name: str) -> str:
    """A state table as the inventory's state.table expects it (pk and sk, strings)."""
    import boto3

    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    return name


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory):
    # The recorder writes where this says (default: a file in the working directory).
    os.environ["MOTO_RECORDER_FILEPATH"] = str(tmp_path_factory.mktemp("moto") / "recording")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoEndpoint(f"http://{host}:{port}")
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, tmp_path: Path):
    """Point boto3 at moto with dummy credentials; return a helper to write inventories."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    def configuration(aws: dict) -> dict:
        path = tmp_path / "staging.yaml"
        path.write_text(yaml.safe_dump({"name": "staging", "kind": "staging", "driver": "aws",
                                        "aws": {"region": REGION, **aws}}))
        return {"edx_environment": str(path), "edx_ledger": str(tmp_path / "ledger.jsonl")}

    return configuration


@pytest.fixture
def fis_steps(moto_endpoint):
    """Experiments move one state per GetExperiment (pending, initiating, running...),
    as FIS's take seconds each, instead of completing at once."""
    def transition(path: str, body: dict) -> None:
        request = urllib.request.Request(f"{moto_endpoint.url}/moto-api/state-manager/{path}",
                                         data=json.dumps(body).encode(), method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    transition("set-transition", {"model_name": "fis::experiment",
                                  "transition": {"progression": "manual", "times": 1}})
    yield
    transition("unset-transition", {"model_name": "fis::experiment"})
