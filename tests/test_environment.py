"""Environment files: bad input is one paragraph naming the file and the field, exit 2."""

import os
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.environment import load_environment, parse_memory
from chaoslib_edx.errors import UserError
from tests.conftest import REPO, run_cli


def test_committed_sandbox_environment_is_valid() -> None:
    env = load_environment(REPO / "gamedays/environments/sandbox.yaml")
    assert env.driver == "sandbox" and env.kind == "sandbox"
    assert env.sandbox.lms_replicas == 3


@pytest.mark.parametrize("body, field", [
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {port_bsae: 18000}\n", "sandbox.port_bsae"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {port_base: 80}\n", "sandbox.port_base"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {redis: {maxmemory: lots}}\n",
     "sandbox.redis.maxmemory"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {monitoring: {scrape_interval_s: 0}}\n",
     "sandbox.monitoring.scrape_interval_s"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {monitoring: {compress_for_s: 0}}\n",
     "sandbox.monitoring.compress_for_s"),
    ("name: x\nkind: prod\ndriver: sandbox\nsandbox: {}\n", "kind"),
    ("name: x\nkind: staging\ndriver: aws\naws: {region: eu-west-1, databases: {edxapp: {}}}\n",
     "aws.databases.edxapp"),
    ("kind: sandbox\ndriver: sandbox\nsandbox: {}\n", "name"),
    ("name: x\nkind: sandbox\ndriver: sandbox\n", "sandbox"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {}\nload_master: {bind_host: 0.0.0.0}\n",
     "load_master.bind_host"),
    ("name: x\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n"
     "load_master: {bind_host: master.example}\n", "load_master.bind_host"),
    ("name: x\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n"
     "load_master: {port: 80}\n", "load_master.port"),
    ("name: x\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n"
     "load_master: {bind_host: '::'}\n", "load_master.bind_host"),
    ("name: x\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n"
     "load_master: {bind_host: 10.0.4.7, bind_host_env: POD_IP}\n", "load_master"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {}\n"
     "load_master: {bind_host_env: POD_IP}\n", "load_master.bind_host_env"),
    ("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {}\nconsole: {bind_host: 10.0.0.5}\n",
     "console.bind_host"),
    ("name: x\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n"
     "console: {bind_host: 0.0.0.0}\n", "console.bind_host"),
])
def test_bad_environment_names_file_and_field(tmp_path: Path, body: str, field: str) -> None:
    path = tmp_path / "env.yaml"
    path.write_text(body)
    with pytest.raises(UserError) as err:
        load_environment(path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert str(path) in str(err.value) and field in str(err.value)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text("name: x\nkind: [sandbox\n")
    with pytest.raises(UserError, match="line"):
        load_environment(path)


@pytest.mark.integration
def test_cli_bad_environment_exits_2_with_one_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {lms_replicas: 1}\n")
    result = run_cli("sandbox", "up", "--env", str(path))
    assert result.returncode == 2
    assert "sandbox.lms_replicas" in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert "\n\n" not in result.stderr.strip()
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("text, expected", [("64mb", 64 * 2**20), ("1gb", 2**30),
                                            ("2048", 2048), ("512KB", 512 * 1024)])
def test_parse_memory(text: str, expected: int) -> None:
    assert parse_memory(text) == expected


def test_parse_memory_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        parse_memory("64 megs")


def test_maxmemory_as_a_yaml_number(tmp_path: Path) -> None:
    """`maxmemory: 0` (no limit) and `maxmemory: 1048576` are numbers in YAML."""
    def env(value: object) -> Path:
        path = tmp_path / "env.yaml"
        path.write_text(yaml.safe_dump({"name": "t", "kind": "sandbox", "driver": "sandbox",
                                        "sandbox": {"redis": {"maxmemory": value}}}))
        return path

    assert load_environment(env(0)).sandbox.redis.maxmemory == "0"
    assert parse_memory(load_environment(env(1048576)).sandbox.redis.maxmemory) == 1048576
    with pytest.raises(UserError) as refused:
        load_environment(env(True))
    assert refused.value.field == "sandbox.redis.maxmemory"


@pytest.mark.integration
@pytest.mark.parametrize("args, hint, not_hint", [
    (["run", "no-such-gameday.yaml", "--dry-run"], "a shipped one's name (course-launch)",
     "environments"),
    (["sandbox", "status", "--env", "no-such-env.yaml"], "such as gamedays/environments/",
     "course-launch"),
], ids=["gameday", "environment"])
def test_a_missing_file_gets_the_hint_of_its_kind(args, hint, not_hint) -> None:
    result = run_cli(*args)
    message = " ".join(result.stderr.split())
    assert result.returncode == 2 and "file not found" in message
    assert hint in message and not_hint not in message, message


@pytest.mark.integration
def test_a_reader_that_went_away_ends_the_command_quietly() -> None:
    """`edx-gameday ... | head -1`: the pipe's reader is gone before anything is written."""
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([sys.executable, "-m", "chaoslib_edx", "--help"], stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""  # no "failed: [Errno 32] Broken pipe", no traceback


def test_the_load_master_listens_where_the_inventory_says(tmp_path: Path) -> None:
    from chaoslib_edx.platforms import platform

    sandbox = tmp_path / "sandbox.yaml"
    sandbox.write_text("name: x\nkind: sandbox\ndriver: sandbox\nsandbox: {port_base: 21000}\n")
    assert platform(load_environment(sandbox), str(sandbox)).load_master() == ("127.0.0.1", 21028)
    cloud = tmp_path / "staging.yaml"
    cloud.write_text("name: s\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n")
    assert platform(load_environment(cloud), str(cloud)).load_master() == ("127.0.0.1", 5557)
    cloud.write_text(cloud.read_text() + "load_master: {bind_host: 10.0.4.7, port: 6000}\n")
    assert platform(load_environment(cloud), str(cloud)).load_master() == ("10.0.4.7", 6000)


def test_a_pod_names_its_own_address_through_an_environment_variable(tmp_path, monkeypatch):
    from chaoslib_edx.platforms import platform

    cloud = tmp_path / "staging.yaml"
    cloud.write_text("name: s\nkind: staging\ndriver: aws\naws: {region: eu-west-1}\n"
                     "load_master: {bind_host_env: POD_IP}\n")
    target = platform(load_environment(cloud), str(cloud))
    monkeypatch.setenv("POD_IP", "10.1.2.3")
    assert target.load_master() == ("10.1.2.3", 5557)
    for value in ("", "0.0.0.0", "lms.internal"):
        monkeypatch.setenv("POD_IP", value)
        with pytest.raises(UserError) as err:
            target.load_master()
        assert err.value.field == "load_master.bind_host_env" and "$POD_IP" in str(err.value)
