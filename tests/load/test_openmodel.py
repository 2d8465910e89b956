"""The open model against a real stall: every LMS replica SIGSTOPped for 3 s under a
constant arrival rate. Arrivals keep coming on schedule, and the latency counted from their
intended start shows the stall in full (bench/stall.py puts the closed model beside it)."""

from bench.stall import run_with_stall

RATE, STALL_S = 30, 3.0


def test_a_stall_shows_in_full_from_the_intended_start(sandbox, tmp_path) -> None:
    found = run_with_stall("open", str(sandbox.env_file), tmp_path / "open", RATE, STALL_S,
                           window_s=16)
    stall = found["stall"]
    assert stall["p99_ms"] >= 0.9 * STALL_S * 1000, found
    assert stall["p99_ms"] >= stall["service_p99_ms"]
    # The generator did not wait for the platform: every arrival of the stall was sent.
    due = found["due_in_stall"]
    assert due["due"] == RATE * int(STALL_S) and due["dropped"] == 0 and due["late"] == 0, due


def test_plain_locust_run_ends_with_its_arrival_curve(sandbox, tmp_path) -> None:
    """`locust -f open_launch.py` stops by itself once the curve's arrivals are back, long
    before its -t; every arrival of the curve is counted due."""
    import time

    from chaoslib_edx.files import SHIPPED
    from chaoslib_edx.load import launcher
    from chaoslib_edx.load.series import Series
    from chaoslib_edx.platforms import platform_of

    target = platform_of(str(sandbox.env_file))
    started = time.monotonic()
    run = launcher.start(SHIPPED / "loadprofiles" / "open_launch.py", target.lms_url(), 120,
                         tmp_path, env={**target.load_environment(),
                                        "EDX_ARRIVALS": "0:10,3:10", "EDX_POOL": "10"})
    assert run.wait() == 0
    assert time.monotonic() - started < 40
    series = Series(run.metrics_file).refresh()
    assert series.arrivals(series.first, series.last + 1)["due"] == 30
