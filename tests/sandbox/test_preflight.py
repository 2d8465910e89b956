"""Preflight refusals: exit 2, one paragraph naming the cause and a fix, nothing started."""

import json
import socket
from pathlib import Path

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.sandbox import preflight
from tests.conftest import free_port_base, one_paragraph, run_cli, write_env

pytestmark = pytest.mark.integration


def _assert_refused(result, *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in one_paragraph(result.stderr), result.stderr


def test_port_base_out_of_range_flag(tmp_path: Path) -> None:
    env = write_env(tmp_path, free_port_base())
    result = run_cli("sandbox", "up", "--env", str(env), "--port-base", "80")
    _assert_refused(result, "--port-base", "port_base", "1024")
    assert not (tmp_path / "state").exists()


def test_taken_port_is_named_with_its_holder(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        # The listener sits on the sandbox's CDN port (base + 1).
        env = write_env(tmp_path, port - 1)
        result = run_cli("sandbox", "up", "--env", str(env))
    _assert_refused(result, f"port {port}", "cdn", "pid", "sandbox.port_base")
    assert not (tmp_path / "state").exists()


def test_missing_server_binary(tmp_path: Path) -> None:
    env = write_env(tmp_path, free_port_base())
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_cli("sandbox", "up", "--env", str(env), env={"PATH": str(empty)})
    _assert_refused(result, "'mariadbd' is not installed", "install-servers.sh")
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("name, content, needles", [
    ("state.json", "{not json", ("corrupt", "sandbox.state_dir", "sandbox down")),
    ("notes.txt", "mine", ("no state.json", "sandbox.state_dir")),
], ids=["corrupt-state-file", "foreign-directory"])
def test_state_dir_that_is_not_a_sandbox(tmp_path: Path, name: str, content: str,
                                         needles: tuple[str, ...]) -> None:
    env = write_env(tmp_path, free_port_base())
    state = tmp_path / "state"
    state.mkdir()
    (state / name).write_text(content)
    result = run_cli("sandbox", "up", "--env", str(env))
    _assert_refused(result, *needles)
    assert sorted(p.name for p in state.iterdir()) == [name]  # left as it was


def test_state_dir_of_another_port_base(tmp_path: Path) -> None:
    base = free_port_base()
    env = write_env(tmp_path, base)
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({
        "version": preflight.STATE_VERSION, "port_base": base + 100, "bootstrapped": True}))
    result = run_cli("sandbox", "up", "--env", str(env))
    _assert_refused(result, f"port_base {base + 100}", "sandbox.port_base")


def test_a_state_dir_holding_only_the_lock_and_ledger_is_new(tmp_path: Path) -> None:
    """A dry run or a recover before the first `up` takes the environment's lock in the
    state dir: that does not make it a foreign directory."""
    from chaoslib_edx.environment import load_environment
    from chaoslib_edx import lease
    from chaoslib_edx.sandbox.layout import Layout
    from chaoslib_edx.sandbox.preflight import read_state

    env = write_env(tmp_path, free_port_base())
    lease.end(lease.begin({"edx_environment": str(env)}, "a dry run"))
    layout = Layout.of_inventory(load_environment(env).sandbox, env)
    assert [p.name for p in layout.root.iterdir()] == ["gameday"]
    assert read_state(layout, env) is None
    (layout.root / "stray.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty and has no state.json"):
        read_state(layout, env)
