"""Fuzzing the command line's validation: mutated game days and experiments, and raw
junk, through `run --dry-run` and `check` (the real entry point, in this process), with a
sandbox inventory on a free port block whose sandbox is not running, so that nothing can
be touched. Every input must end in exit 0 or 2 with a one-paragraph message: never a
traceback, never exit 1."""

import copy
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaoslib_edx.cli import main
from tests.conftest import REPO, default_gameday_spec, free_port_base, write_env

DERANDOMIZE = True  # CI replays one corpus; set False locally to explore new ones
SETTINGS = settings(max_examples=400, deadline=timedelta(seconds=10), derandomize=DERANDOMIZE,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=5)),
                    max_size=2))


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every place in a YAML document: mapping keys and list indexes, all depths."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: dict) -> dict:
    """ORIGINAL with one to three places replaced by a value of any type, deleted, or
    joined by an unknown key."""
    spec = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        places = _paths(spec)
        if not places:
            break
        *parents, last = draw(st.sampled_from(places))
        node = spec
        try:
            for key in parents:
                node = node[key]
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "replace":
                node[last] = draw(VALUES)
            elif action == "delete":
                del node[last]
            elif isinstance(node, dict):
                node[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape under this place
    return spec


RAW = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                st.sampled_from([b"a: &x [1]\nb: [*x, *x]\n", b"- 1\n- 2\n", b"{", b"",
                                 b"\xff\xfe\x00", b"title: [unclosed\n"]))


@pytest.fixture(scope="module")
def dead_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inventory of a sandbox that is not running: every probe finds nothing."""
    return write_env(tmp_path_factory.mktemp("dead-sandbox"), free_port_base())


def _exit_code(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """The exit code the console script would give ARGS (returning is exit 0)."""
    try:
        main(args)
        code = 0
    except SystemExit as ended:
        code = ended.code
    out, err = capsys.readouterr()
    return code, out + err


def _assert_handled(code: int, output: str, source: bytes) -> None:
    assert code in (0, 2), f"exit {code} for:\n{source[:400]!r}\n{output[-1500:]}"
    assert "Traceback" not in output and "failed:" not in output, output[-1500:]


@SETTINGS
@given(data=st.data())
def test_mutated_game_days_dry_run_to_exit_0_or_2(data, dead_sandbox, tmp_path, capsys) -> None:
    raw = data.draw(st.one_of(mutated(default_gameday_spec()).map(
        lambda spec: yaml.safe_dump(spec, allow_unicode=True).encode()), RAW))
    path = tmp_path / "gameday.yaml"
    path.write_bytes(raw)
    code, output = _exit_code(["run", str(path), "--dry-run", "--env", str(dead_sandbox),
                               "--out", str(tmp_path / "run")], capsys)
    _assert_handled(code, output, raw)
    assert not (tmp_path / "run").exists()


EXPERIMENTS = sorted((REPO / "experiments").glob("*.yaml"))


@SETTINGS
@given(data=st.data())
def test_mutated_experiments_check_to_exit_0_or_2(data, dead_sandbox, tmp_path, capsys) -> None:
    original = yaml.safe_load(data.draw(st.sampled_from(EXPERIMENTS)).read_text())
    raw = data.draw(st.one_of(mutated(original).map(
        lambda spec: yaml.safe_dump(spec, allow_unicode=True).encode()), RAW))
    path = tmp_path / "experiment.yaml"
    path.write_bytes(raw)
    code, output = _exit_code(["check", str(path), "--env", str(dead_sandbox)], capsys)
    _assert_handled(code, output, raw)
