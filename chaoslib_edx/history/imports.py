"""Runs to import: run directories on disk, or every run under an S3 prefix (as `run
--upload` leaves them: PREFIX/<run dir>/summary.json and run.json, or a capacity run's
capacity.json and capacity-run.json)."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

from chaoslib_edx.errors import UserError
from chaoslib_edx.history.rundirs import record_of

REPORT_FILES = ("summary.json", "run.json", "capacity.json", "capacity-run.json")


def records_from(source: str) -> Iterator[dict]:
    """The records of SOURCE: a run directory, a directory of run directories, or an S3
    prefix (s3://BUCKET/PREFIX)."""
    if source.startswith("s3://"):
        yield from _s3(source)
        return
    path = Path(source)
    if not path.is_dir():
        raise UserError("not a directory or an s3:// prefix", file=source)
    if any((path / name).exists() for name in ("summary.json", "capacity.json")):
        yield record_of(path)
        return
    runs = sorted(p.parent for name in ("summary.json", "capacity.json")
                  for p in path.glob(f"*/{name}"))
    if not runs:
        raise UserError("holds no rendered run (summary.json or capacity.json) nor run "
                        "directories that do", file=source)
    for run in runs:
        yield record_of(run)


def _s3(url: str) -> Iterator[dict]:
    import boto3

    from chaoslib_edx.report.upload import parse_s3_url

    bucket, prefix = parse_s3_url(url, field="SOURCES")
    s3 = boto3.session.Session().client("s3")
    runs: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", []):
            folder, _, name = item["Key"].rpartition("/")
            if name in REPORT_FILES:
                runs.setdefault(folder, []).append(item["Key"])
    for folder, keys in sorted(runs.items()):
        if not any(k.endswith(("/summary.json", "/capacity.json")) for k in keys):
            continue  # a run uploaded before its report was rendered
        with tempfile.TemporaryDirectory() as local:
            for key in keys:
                s3.download_file(bucket, key, str(Path(local) / key.rpartition("/")[2]))
            yield record_of(local, source=f"s3://{bucket}/{folder}")
