"""Copy a finished run directory to S3: a scheduled game day's pod, and its disk, go
away with it; the report stays where people and the next `recover` can read it."""

import mimetypes
from pathlib import Path

from chaoslib_edx.errors import UserError


def parse_s3_url(url: str, field: str = "--upload") -> tuple[str, str]:
    """(bucket, key prefix) of s3://BUCKET[/PREFIX]; UserError naming FIELD otherwise."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket:
        raise UserError(f"'{url}' is not an S3 location like s3://bucket/prefix",
                        field=field, fix="Nothing was run")
    return bucket, prefix.strip("/")


def upload_run(run_dir: Path | str, url: str) -> list[str]:
    """Every file of RUN_DIR to s3://BUCKET/PREFIX/<run dir name>/...; the keys written.
    Credentials and region come from the usual AWS chain (a pod's IRSA role)."""
    import boto3

    run_dir = Path(run_dir)
    bucket, prefix = parse_s3_url(url)
    s3 = boto3.session.Session().client("s3")
    keys = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        key = "/".join(part for part in (prefix, run_dir.name,
                                         path.relative_to(run_dir).as_posix()) if part)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # One PutObject a file: reports are small, and IAM needs s3:PutObject alone.
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type)
        keys.append(key)
    return keys
