"""Access logs to replay curves: nginx and ALB formats, errors with file and line, exit 2."""

from pathlib import Path

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.load.accesslog import import_access_log
from chaoslib_edx.load.shapes import ReplayCurve
from tests.conftest import run_cli

NGINX = '127.0.0.1 - - [24/Nov/2026:18:12:{s:02d} +0000] "GET /dashboard HTTP/1.1" 200 512 "-" "locust"\n'
ALB = ('https 2026-11-24T18:{m:02d}:{s:02d}.123456Z app/lms/abc 10.0.0.1:5555 10.0.1.2:80 0.001 '
       '0.020 0.000 200 200 120 512 "GET https://lms.example.org:443/dashboard HTTP/1.1" "ua" - -\n')


def test_nginx_log_per_second_with_gaps(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(NGINX.format(s=10) * 3 + NGINX.format(s=12) * 5)
    assert import_access_log(log) == [(0, 3), (1, 0), (2, 5)]


def test_alb_log_per_minute(tmp_path: Path) -> None:
    log = tmp_path / "alb.log"
    log.write_text(ALB.format(m=0, s=5) * 60 + ALB.format(m=1, s=59) * 30)
    assert import_access_log(log, bucket_s=60) == [(0, 1.0), (60, 0.5)]


def test_malformed_line_is_named(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(NGINX.format(s=1) + "garbage here\n")
    with pytest.raises(UserError) as err:
        import_access_log(log)
    assert err.value.field == "line 2"


@pytest.mark.integration
def test_cli_writes_a_curve_the_replay_shape_reads(tmp_path: Path) -> None:
    log, out = tmp_path / "access.log", tmp_path / "curve.csv"
    log.write_text(NGINX.format(s=0) * 2 + NGINX.format(s=1) * 4)
    result = run_cli("load", "import-access-log", str(log), "--out", str(out))
    assert result.returncode == 0, result.stderr
    curve = ReplayCurve.from_csv(out)
    assert curve.values == (2, 4) and curve.column == "rps"


@pytest.mark.integration
@pytest.mark.parametrize("text", ["", "not a log line\n"])
def test_cli_empty_or_malformed_exits_2(tmp_path: Path, text: str) -> None:
    log = tmp_path / "access.log"
    log.write_text(text)
    result = run_cli("load", "import-access-log", str(log), "--out", str(tmp_path / "c.csv"))
    assert result.returncode == 2
    assert str(log) in result.stderr and "line 1" in result.stderr
    assert not (tmp_path / "c.csv").exists()


def test_an_impossible_date_is_named_by_its_line(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(NGINX.format(s=1) + NGINX.format(s=2).replace("24/Nov", "31/Feb"))
    with pytest.raises(UserError) as err:
        import_access_log(log)
    assert err.value.field == "line 2" and "impossible date" in str(err.value)


def test_a_span_beyond_the_limit_is_refused_naming_its_lines(tmp_path: Path) -> None:
    """Two lines a year apart: refused at once, naming both, instead of a curve of 3*10^7
    empty seconds (memory grew with the span, not with the lines)."""
    log = tmp_path / "access.log"
    log.write_text(NGINX.format(s=1) + NGINX.format(s=2).replace("2026", "2027"))
    with pytest.raises(UserError) as err:
        import_access_log(log)
    assert err.value.field == "line 2"
    assert "from line 1 to line 2" in str(err.value) and "--per minute" in str(err.value)
    per_minute = import_access_log(log, bucket_s=60)  # the same span fits per minute
    assert per_minute[0] == (0, 1 / 60) and per_minute[-1][1] == 1 / 60


@pytest.mark.integration
def test_cli_refuses_an_output_in_a_missing_directory_before_reading(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(NGINX.format(s=1))
    out = tmp_path / "nowhere" / "curve.csv"
    result = run_cli("load", "import-access-log", str(log), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert f"{out}: field '--out': its directory does not exist" in " ".join(result.stderr.split())
