"""Turn an nginx or AWS ALB access log into a replay curve CSV (offset_s,rps)."""

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from chaoslib_edx.errors import UserError

MAX_BUCKETS = 1_000_000  # a curve's rows: 11.6 days per second, 1.9 years per minute

# nginx "combined" (and any format with [$time_local]): [24/Nov/2026:18:12:30 +0000]
_NGINX = re.compile(r"\[(\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]")
# ALB: "<type> <ISO-8601 time> <elb> ..." e.g. https 2026-11-24T18:12:30.123456Z app/...
_ALB = re.compile(r"^(?:http|https|h2|grpcs|ws|wss) (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})"
                  r"(?:\.\d+)?Z ")


def _timestamp(line: str) -> float | None:
    """The request's time; None when the line is not of a known format; ValueError for an
    impossible date in a line that is (31 February)."""
    if match := _NGINX.search(line):
        return datetime.strptime(match.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
    if match := _ALB.match(line):
        return datetime.fromisoformat(match.group(1) + "+00:00").timestamp()
    return None


def import_access_log(log: Path | str, bucket_s: int = 1) -> list[tuple[int, float]]:
    """(offset_s, requests per second) per BUCKET_S bucket, empty buckets included."""
    log = Path(log)
    counts: Counter[int] = Counter()  # sparse: memory grows with requests, not with time
    first = last = None  # (bucket, line number) of the earliest and the latest request
    try:
        handle = log.open(errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read the access log ({exc.strerror})", file=log) from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                when = _timestamp(line)
            except ValueError as exc:
                raise UserError(f"an impossible date ({exc})", file=log, field=f"line {number}",
                                fix="Fix or remove the line") from None
            if when is None:
                raise UserError(f"not an nginx or ALB access log line: {line.strip()[:120]!r}",
                                file=log, field=f"line {number}",
                                fix="Pass an nginx log with [$time_local] or an ALB log")
            bucket = int(when) // bucket_s * bucket_s
            counts[bucket] += 1
            first = min(first or (bucket, number), (bucket, number))
            last = max(last or (bucket, number), (bucket, number))
    if not counts:
        raise UserError("the access log has no requests", file=log, field="line 1")
    (start, first_line), (end, last_line) = first, last
    if (end - start) // bucket_s + 1 > MAX_BUCKETS:
        raise UserError(f"its requests span {(end - start) / 86400:.1f} days, from line "
                        f"{first_line} to line {last_line}: more than the {MAX_BUCKETS:,} "
                        f"buckets a curve may have", file=log, field=f"line {last_line}",
                        fix="Import --per minute, or cut the log to the peak you replay")
    return [(t - start, counts.get(t, 0) / bucket_s) for t in range(start, end + 1, bucket_s)]


def write_curve(rows: list[tuple[int, float]], out: Path | str) -> None:
    lines = ["offset_s,rps"] + [f"{offset},{rate:g}" for offset, rate in rows]
    Path(out).write_text("\n".join(lines) + "\n")
