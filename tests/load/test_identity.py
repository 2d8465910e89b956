"""A generator's identity, as a worker proves it to its master: equal for the same
locustfile and load settings, different for another locustfile, another CDN, other
courses, other learners, or a worker started for another run; never the settings' values
themselves (nor the learners' passwords)."""

from pathlib import Path

from chaoslib_edx.load import identity

PROFILE = Path(__file__).resolve().parents[2] / "loadprofiles" / "course_launch.py"
ENV = {"EDX_CDN_URL": "http://127.0.0.1:18001", "EDX_LEARNERS": "200", "EDX_COURSES": "4",
       "EDX_LEARNER_PASSWORD": "s3cret-pw", "EDX_RUN_ID": "run1"}


def test_the_same_profile_and_settings_match(tmp_path: Path) -> None:
    mine = identity.digest([str(PROFILE)], ENV)
    assert identity.mismatch(mine, identity.digest([str(PROFILE)], dict(ENV))) is None
    assert "18001" not in str(mine)  # digests only
    # A worker started outside a run (a Deployment's pod) says no run: not held against it.
    assert identity.mismatch(mine, identity.digest([str(PROFILE)],
                                                   {**ENV, "EDX_RUN_ID": ""})) is None


def test_what_would_send_other_requests_does_not(tmp_path: Path) -> None:
    mine = identity.digest([str(PROFILE)], ENV)
    other = tmp_path / "heartbeat.py"
    other.write_text("# a locustfile of someone else's\n")
    cases = {
        "another locustfile": identity.digest([str(other)], ENV),
        "load settings differ": identity.digest([str(PROFILE)],
                                                {**ENV, "EDX_CDN_URL": "http://elsewhere"}),
        "settings differ (the CDN or the courses)": identity.digest(
            [str(PROFILE)], {**ENV, "EDX_COURSES": "8"}),
        "another run": identity.digest([str(PROFILE)], {**ENV, "EDX_RUN_ID": "run2"}),
    }
    for why, theirs in cases.items():
        assert why in identity.mismatch(mine, theirs), why
    assert identity.mismatch(mine, "hello") == "its hello is not a mapping"


def test_a_worker_signing_in_as_other_learners_is_not_the_runs(tmp_path: Path) -> None:
    """A worker reads its learners at start, before the master's options come: one with
    no learners file of its own (a pod without EDX_LEARNERS_FILE) would sign in as the
    generated learner1..N."""
    staging = tmp_path / "learners.csv"
    staging.write_text("username,password\nload-tester-1,pw-one\n")
    master = identity.digest([str(PROFILE)], {**ENV, "EDX_LEARNERS_FILE": str(staging)})
    mounted = tmp_path / "mounted.csv"  # the same Secret, mounted elsewhere: the same
    mounted.write_bytes(staging.read_bytes())
    assert identity.mismatch(master, identity.digest(
        [str(PROFILE)], {**ENV, "EDX_LEARNERS_FILE": str(mounted)})) is None
    why = identity.mismatch(master, identity.digest([str(PROFILE)], ENV))
    assert why is not None and "other learners" in why
    other_password = identity.digest([str(PROFILE)], {**ENV, "EDX_LEARNER_PASSWORD": "x"})
    assert "other learners" in identity.mismatch(identity.digest([str(PROFILE)], ENV),
                                                 other_password)
    assert "pw-one" not in str(master) and "s3cret" not in str(master)
