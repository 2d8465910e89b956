"""Game-day files are validated whole before anything starts: errors name file and field."""

from pathlib import Path

import pytest
import yaml

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


def test_the_default_game_day_is_valid_and_runs_all_four_faults(monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # paths in game days are relative to the repository root
    loaded = load_gameday(DEFAULT)
    assert [Path(s.experiment).stem for s in loaded.spec.timeline] == [
        "rds-failover", "redis-eviction", "lms-pod-kill", "cloudfront-origin-loss"]
    assert loaded.spec.slos == ["lms-availability", "api-latency", "video-delivery",
                                "authentication"]


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
        assert "(known: page, ticket)" in str(refused.value)
