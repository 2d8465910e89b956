"""Game-day files are validated whole before anything starts: errors name file and field."""

from pathlib import Path

import pytest
import yaml

from chaoslib_edx.errors import UserError
from chaoslib_edx.gameday.schema import load_gameday
from tests.conftest import REPO, default_gameday_spec, one_paragraph, run_cli

DEFAULT = REPO / "gamedays/course-launch.yaml"


def _gameday(tmp_path: Path, **changes: object) -> Path:
    spec = default_gameday_spec()
    for dotted, value in changes.items():
        node, *path = spec, *dotted.split("__")
        for key in path[:-1]:
            node = node[int(key) if isinstance(node, list) else key]
        last = path[-1] if path else dotted
        if value is None:
            del node[last]
        else:
            node[int(last) if isinstance(node, list) else last] = value
    path = tmp_path / "gameday.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_the_default_game_day_is_valid_and_runs_all_five_faults(monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # paths in game days are relative to the repository root
    loaded = load_gameday(DEFAULT)
    assert [Path(s.experiment).stem for s in loaded.spec.timeline] == [
        "rds-failover", "redis-eviction", "lms-pod-kill", "cloudfront-origin-loss",
        "database-degradation"]
    assert loaded.spec.slos == ["lms-availability", "api-latency", "video-delivery",
                                "authentication", "session-continuity"]


def test_the_zone_outage_game_day_is_valid_and_darkens_a_zone(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    loaded = load_gameday(REPO / "gamedays/zone-outage.yaml")
    (step,) = loaded.spec.timeline
    assert Path(step.experiment).stem == "zone-outage"
    (experiment,) = loaded.experiments
    modules = {a["provider"]["module"] for a in experiment["method"]}
    assert "chaoslib_edx.zone.actions" in modules


@pytest.mark.parametrize("changes, field, words", [
    ({"roles__game_master": None}, "roles.game_master", "required field is missing"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"slos__1": "api-speed"}, "slos.1", "no SLO named 'api-speed'"),
    ({"abort__0__slo": "uptime"}, "abort.0.slo", "no SLO named 'uptime'"),
    ({"timeline__1__experiment": "experiments/nope.yaml"}, "timeline.1.experiment",
     "no experiment file"),
    ({"timeline__2__offset_s": 10}, "timeline", "offsets must not decrease"),
    ({"timeline__0__offset_s": -1}, "timeline.0.offset_s", "greater than or equal to 0"),
    ({"load__profile": "loadprofiles/nope.py"}, "load.profile", "no load profile"),
    ({"load__shape__peak_users": 0}, "load.shape.peak_users", "greater than or equal to 1"),
    ({"max_duration_s": 10}, "max_duration_s", "greater than or equal to 30"),
    ({"timeline": []}, "timeline", "at least 1 item"),
    ({"timeline__0__offset_s": float("inf")}, "timeline.0.offset_s", "finite number"),
    ({"timeline__4__offset_s": 470}, "timeline.4.offset_s", "it would never run"),
    ({"timeline__1__experiment": str(REPO / "experiments/rds-failover.yaml")},
     "timeline.1.experiment", "'rds-failover' is already in the timeline (timeline.0)"),
    ({"load__shape__time_scale": float("nan")}, "load.shape.time_scale", "finite number"),
    ({"load__workers": 9}, "load.workers", "less than or equal to 8"),
    ({"load__workers": {"expect": 0}}, "load.workers.expect", "greater than or equal to 1"),
    ({"load__workers": {"expect": 2, "join_timeout": 5}}, "load.workers.join_timeout",
     "unknown field"),
])
@pytest.mark.integration
def test_bad_game_day_exit_2_naming_file_and_field(tmp_path, changes, field, words) -> None:
    path = _gameday(tmp_path, **changes)
    result = run_cli("run", str(path), "--out", str(tmp_path / "run"))
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stderr
    assert f"{path}: field '{field}':" in message and words in message, message
    assert len(result.stderr.strip().split("\n\n")) == 1  # one paragraph
    assert not (tmp_path / "run").exists()


@pytest.mark.integration
def test_an_experiment_chaoslib_rejects_is_named(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: no method\ndescription: x\n")
    path = _gameday(tmp_path, timeline__0__experiment=str(broken))
    result = run_cli("run", str(path), "--dry-run")
    message = one_paragraph(result.stderr)
    assert result.returncode == 2
    assert "field 'timeline.0.experiment'" in message
    assert "is not a valid Chaos Toolkit experiment" in message


@pytest.mark.integration
def test_an_abort_probe_is_checked_as_a_chaos_toolkit_probe(tmp_path) -> None:
    path = _gameday(tmp_path, abort=[{"probe": {"provider": {"type": "python"}},
                                      "tolerance": True}])
    result = run_cli("run", str(path), "--dry-run")
    assert result.returncode == 2
    assert "field 'abort.0.probe'" in one_paragraph(result.stderr)


@pytest.mark.integration
def test_a_staging_inventory_without_load_endpoints_is_refused(tmp_path) -> None:
    env = tmp_path / "staging.yaml"
    env.write_text(yaml.safe_dump({"name": "staging", "kind": "staging", "driver": "aws",
                                   "aws": {"region": "us-east-1"}}))
    result = run_cli("run", str(DEFAULT), "--env", str(env), "--dry-run")
    message = one_paragraph(result.stderr)
    assert result.returncode == 2
    assert f"{env}: field 'endpoints':" in message


@pytest.mark.parametrize("keys, field", [
    (None, "endpoints.course_keys"),   # else the load would ask for the sandbox's courses
    ([], "endpoints.course_keys"),
    (["edX/DemoX/Demo"], "endpoints.course_keys.0"),
])
def test_a_staging_inventory_names_the_courses_the_load_studies(tmp_path, keys, field) -> None:
    from chaoslib_edx.environment import load_environment

    endpoints = {"lms_url": "https://lms.example.org", "cdn_url": "https://cdn.example.org"}
    env = tmp_path / "staging.yaml"
    env.write_text(yaml.safe_dump({"name": "staging", "kind": "staging", "driver": "aws",
                                   "aws": {"region": "us-east-1"},
                                   "endpoints": endpoints | ({} if keys is None else
                                                             {"course_keys": keys})}))
    with pytest.raises(UserError) as refused:
        load_environment(env)
    assert refused.value.file == str(env) and refused.value.field == field


def test_the_shipped_staging_example_validates() -> None:
    from chaoslib_edx.environment import load_environment

    env = load_environment(REPO / "gamedays/environments/staging.example.yaml")
    assert env.kind == "staging" and env.endpoints is not None
    assert set(env.aws.databases) == {"edxapp"} and "lms" in env.kubernetes.deployments


@pytest.mark.parametrize("abort, field, words", [
    ({"slo": "lms-availability", "rule": "pager"}, "abort.0.rule",
     "no alerting rule 'pager' in "),
    ({"slo": "lms-availability", "rule": "page", "window_seconds": 30}, "abort.0",
     "give either 'rule' or 'window_seconds'/'burn_rate_above'"),
])
def test_an_abort_rule_must_be_the_slos_own(tmp_path, monkeypatch, abort, field,
                                           words) -> None:
    from chaoslib_edx.errors import UserError

    monkeypatch.chdir(REPO)
    with pytest.raises(UserError) as refused:
        load_gameday(_gameday(tmp_path, abort=[abort]))
    assert refused.value.field == field and words in str(refused.value)
    if field.endswith("rule"):
        assert "(known: page, page-slow, ticket)" in str(refused.value)


@pytest.mark.integration
@pytest.mark.parametrize("existing, words", [
    (None, "its directory does not exist"),
    ("<notes>mine</notes>", "exists and is not a game day's JUnit report"),
], ids=["missing-directory", "unrelated-file"])
def test_junit_destination_is_checked_before_anything(tmp_path, existing, words) -> None:
    target = tmp_path / ("nowhere/junit.xml" if existing is None else "junit.xml")
    if existing is not None:
        target.write_text(existing)
    result = run_cli("run", "course-launch", "--dry-run", "--junit", str(target))
    assert result.returncode == 2, result.stderr
    message = one_paragraph(result.stderr)
    assert f"{target}: field '--junit':" in message and words in message
    assert (target.read_text() == existing) if existing is not None else not target.exists()


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files a user may hand over by mistake, and the words their refusal must carry."""
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x7fELF\x02\x01\x00\x00" * 8)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- title: not a mapping\n")
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"title": "t", "method": [,]}')
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('version: 1.0.0\ntitle: t\ndescription: d\na: &a ["x","x","x","x"]\n'
                    'b: &b [*a,*a,*a,*a]\nc: [*b,*b,*b,*b]\nmethod: []\n')
    return {"binary": (binary, "is a binary file"), "latin1": (latin1, "is not UTF-8 text"),
            "directory": (folder, "is a directory"), "symlink-loop": (loop, "cannot be read"),
            "yaml-list": (listed, "a list at the top level"),
            "bad-json": (bad_json, "not valid YAML at line 1"),
            "alias-bomb": (bomb, "uses a YAML alias (*a)")}


BAD = ["binary", "latin1", "directory", "symlink-loop", "yaml-list", "bad-json", "alias-bomb"]


@pytest.mark.integration
@pytest.mark.parametrize("kind", BAD)
def test_a_bad_experiment_file_is_exit_2_naming_the_field(tmp_path, kind) -> None:
    bad, words = _bad_inputs(tmp_path)[kind]
    path = _gameday(tmp_path, timeline__0__experiment=str(bad))
    result = run_cli("run", str(path), "--dry-run")
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stderr
    assert f"{path}: field 'timeline.0.experiment':" in message and words in message, message
    assert "Traceback" not in result.stderr


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["binary", "latin1", "directory", "symlink-loop",
                                  "alias-bomb"])
@pytest.mark.parametrize("role", ["gameday", "environment", "catalog", "check"])
def test_a_bad_file_in_any_role_is_exit_2_naming_it(tmp_path, kind, role) -> None:
    bad, words = _bad_inputs(tmp_path)[kind]
    args = {"gameday": ["run", str(bad), "--dry-run"],
            "environment": ["run", str(_gameday(tmp_path)), "--env", str(bad), "--dry-run"],
            "catalog": ["run", str(_gameday(tmp_path, slo_catalog=str(bad))), "--dry-run"],
            "check": ["check", str(bad)]}[role]
    result = run_cli(*args)
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stderr
    assert str(bad) in message and words in message, message
    assert "Traceback" not in result.stderr


def test_aliases_in_a_free_form_field_are_refused_before_they_expand(tmp_path) -> None:
    """A tolerance is free-form (Any): without the check it would validate, then expand."""
    from chaoslib_edx.errors import UserError

    path = _gameday(tmp_path)
    text = path.read_text().replace("abort:\n", "bomb: &x [1, 2]\nabort:\n", 1)
    text += "\nextra: [*x, *x]\n"
    path.write_text(text)
    with pytest.raises(UserError, match=r"uses a YAML alias \(\*x\) at line"):
        load_gameday(path)


@pytest.mark.integration
def test_an_output_under_a_file_is_refused_before_anything(tmp_path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    result = run_cli("run", "course-launch", "--dry-run", "--out", str(afile / "run"))
    assert result.returncode == 2, result.stderr
    message = one_paragraph(result.stderr)
    assert f"field '--out': is under {afile}, which is a file" in message
    assert afile.read_text() == "mine"


@pytest.mark.integration
@pytest.mark.parametrize("content, says", [
    (None, "file not found"),
    ("username,pass\nana,x\n", "line 1: the header has no 'password' column"),
    ("username,password\nana,x\nbo\n", "line 3: needs a username and a password"),
])
def test_a_bad_learners_file_is_refused_before_anything(tmp_path, content, says) -> None:
    """Relative to the game-day file; the game day's field, then the file's line."""
    if content is not None:
        (tmp_path / "learners.csv").write_text(content)
    path = _gameday(tmp_path, load__learners="learners.csv")
    result = run_cli("run", str(path), "--out", str(tmp_path / "run"))
    message = one_paragraph(result.stderr)
    assert result.returncode == 2, result.stderr
    assert f"{path}: field 'load.learners':" in message, message
    assert f"'{tmp_path / 'learners.csv'}'" in message and says in message, message
    assert not (tmp_path / "run").exists()
