"""A run directory copied to S3, as a scheduled game day's pod does before it goes: boto3
against moto's server over HTTP."""

import boto3
import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.report.upload import parse_s3_url, upload_run
from tests.conftest import one_paragraph, run_cli


def test_every_file_of_the_run_lands_under_the_prefix_and_its_name(aws_env, tmp_path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="edx-gamedays",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    run_dir = tmp_path / "course-launch-20261127T020000Z"
    (run_dir / "journals").mkdir(parents=True)
    files = {"index.html": "<html>report</html>", "summary.json": '{"status": "completed"}',
             "journals/rds-failover.json": '{"status": "completed"}'}
    for name, text in files.items():
        (run_dir / name).write_text(text)
    keys = upload_run(run_dir, "s3://edx-gamedays/staging/")
    prefix = "staging/course-launch-20261127T020000Z/"
    assert sorted(keys) == sorted(prefix + name for name in files)
    listed = s3.list_objects_v2(Bucket="edx-gamedays", Prefix="staging/")["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(keys)
    for name, text in files.items():
        got = s3.get_object(Bucket="edx-gamedays", Key=prefix + name)
        assert got["Body"].read().decode() == text
    assert s3.head_object(Bucket="edx-gamedays", Key=prefix + "index.html")[
        "ContentType"] == "text/html"


@pytest.mark.parametrize("url", ["https://edx-gamedays/staging", "s3://", "edx-gamedays"])
def test_a_location_that_is_not_s3_is_refused(url):
    with pytest.raises(UserError, match="is not an S3 location") as err:
        parse_s3_url(url)
    assert err.value.field == "--upload"


@pytest.mark.integration
def test_the_cli_refuses_a_bad_upload_location_before_anything(tmp_path):
    result = run_cli("run", "course-launch", "--upload", "https://bucket/x", "--out",
                     str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    assert "field '--upload': 'https://bucket/x' is not an S3 location" in \
        one_paragraph(result.stderr)
    assert not (tmp_path / "run").exists()
