"""`edx-gameday history import|show` as users run them: the committed example reports
imported into a new environment's history (twice: nothing added the second time), from
disk and from an S3 prefix on moto's server as `run --upload` leaves them."""

import pytest
import yaml

from chaoslib_edx.report.upload import upload_run
from tests.conftest import REPO, run_cli

EXAMPLES = REPO / "docs/examples"

pytestmark = pytest.mark.integration  # the command line, in its own process


def _inventory(tmp_path) -> str:
    path = tmp_path / "staging.yaml"
    path.write_text(yaml.safe_dump({"name": "staging", "kind": "staging", "driver": "aws",
                                    "aws": {"region": "eu-west-1"},
                                    "state": {"dir": str(tmp_path / "state")}}))
    return str(path)


def test_the_committed_examples_import_once(tmp_path) -> None:
    env = _inventory(tmp_path)
    sources = [str(EXAMPLES / "course-launch"), str(EXAMPLES / "capacity-enrollment-peak")]
    first = run_cli("history", "import", *sources, "--env", env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "history: 2 added, 0 updated, 0 unchanged"
    again = run_cli("history", "import", str(EXAMPLES), "--env", env)  # the folder of runs
    assert again.stdout.splitlines()[-1] == "history: 0 added, 0 updated, 2 unchanged"
    assert (tmp_path / "state/history.sqlite").is_file()
    shown = run_cli("history", "show", "--env", env).stdout.splitlines()
    assert len(shown) == 3 and "rds-failover: detected 4s" in shown[1]
    assert "redis-eviction: undetected -" in shown[1]
    assert "normal: knee 800/s  database-slow: knee 400/s" in shown[2]
    only = run_cli("history", "show", "--env", env, "--gameday", "Course launch").stdout
    assert "capacity" not in only and "Course launch" in only
    drawn = run_cli("history", "report", "--env", env, "--out", str(tmp_path / "trends"))
    assert drawn.returncode == 0, drawn.stderr
    page = (tmp_path / "trends/index.html").read_text()
    assert page.count('class="series"') == 2 and page.count("<svg") == 3
    assert "Time to detect by experiment" in page and "Knee by sweep" in page
    assert "redis-eviction: learners were hurt and no alert fired" in page


def test_a_bad_source_is_exit_2_naming_it(tmp_path) -> None:
    result = run_cli("history", "import", str(tmp_path), "--env", _inventory(tmp_path))
    assert result.returncode == 2 and str(tmp_path) in result.stderr
    assert "holds no rendered run" in " ".join(result.stderr.split())


def test_runs_uploaded_to_s3_import_from_their_prefix(aws_env, moto_endpoint, tmp_path) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket="gameday-reports", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"})
    for run in ("course-launch", "capacity-enrollment-peak"):
        upload_run(EXAMPLES / run, "s3://gameday-reports/staging")
    env = _inventory(tmp_path)
    result = run_cli("history", "import", "s3://gameday-reports/staging", "--env", env,
                     env={"AWS_ENDPOINT_URL": moto_endpoint.url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "history: 2 added, 0 updated, 0 unchanged"
    again = run_cli("history", "import", "s3://gameday-reports/staging", "--env", env,
                    env={"AWS_ENDPOINT_URL": moto_endpoint.url})
    assert again.stdout.splitlines()[-1] == "history: 0 added, 0 updated, 2 unchanged"
