"""Turn an nginx or AWS ALB access log into a replay curve CSV (offset_s,rps)."""

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from chaoslib_edx.errors import UserError

# nginx "combined" (and any format with [$time_local]): [24/Nov/2026:18:12:30 +0000]
_NGINX = re.compile(r"\[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]")
# ALB: "<type> <ISO-8601 time> <elb> ..." e.g. https 2026-11-24T18:12:30.123456Z app/...
_ALB = re.compile(r"^(?:http|https|h2|grpcs|ws|wss) (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})"
                  r"(?:\.\d+)?Z ")


def _timestamp(line: str) -> float | None:
    if match := _NGINX.search(line):
        return datetime.strptime(match.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
    if match := _ALB.match(line):
        return datetime.fromisoformat(match.group(1) + "+00:00").timestamp()
    return None


def import_access_log(log: Path | str, bucket_s: int = 1) -> list[tuple[int, float]]:
    """(offset_s, requests per second) per BUCKET_S bucket, empty buckets included."""
    log = Path(log)
    counts: Counter[int] = Counter()
    try:
        handle = log.open(errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read the access log ({exc.strerror})", file=log) from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            when = _timestamp(line)
            if when is None:
                raise UserError(f"not an nginx or ALB access log line: {line.strip()[:120]!r}",
                                file=log, field=f"line {number}",
                                fix="Pass an nginx log with [$time_local] or an ALB log")
            counts[int(when) // bucket_s * bucket_s] += 1
    if not counts:
        raise UserError("the access log has no requests", file=log, field="line 1")
    start, end = min(counts), max(counts)
    return [(t - start, counts.get(t, 0) / bucket_s) for t in range(start, end + 1, bucket_s)]


def write_curve(rows: list[tuple[int, float]], out: Path | str) -> None:
    lines = ["offset_s,rps"] + [f"{offset},{rate:g}" for offset, rate in rows]
    Path(out).write_text("\n".join(lines) + "\n")
