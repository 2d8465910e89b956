"""The run context: settings read one way (configuration, else the EDX_ twin), an
inventory read once per version of its file, and no module reading our settings from the
configuration dict itself. (Counted reads of whole runs: tests/gameday/test_runner.py and
tests/test_experiments.py run commands under tests/reads.py.)"""

import re
from pathlib import Path

import pytest
import yaml

from chaoslib_edx.context import (
    ENV_KEY,
    LEDGER_KEY,
    Settings,
    environment_context,
    run_context,
    setting,
)
from chaoslib_edx.errors import UserError
from tests.conftest import REPO

PACKAGE = REPO / "chaoslib_edx"
# Reads of a Chaos Toolkit configuration dict, or of our settings' environment twins.
DICT_READ = re.compile(r"\b(configuration|config)\b\s*(\bor\s*\{\}\s*\))?\.get\(|"
                       r"\(\s*(configuration|config)\s+or\s+\{\}\s*\)\.get\(|"
                       r"environ(\.get\(|\[)\s*[\"']EDX_(ENVIRONMENT|CONFIRM_PRODUCTION|LEDGER|"
                       r"METRICS_FILE|SLO_CATALOG|LOAD)")


def test_no_module_reads_our_settings_but_the_context() -> None:
    readers = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
               for path in sorted(PACKAGE.rglob("*.py")) if path.name != "context.py"
               for number, line in enumerate(path.read_text().splitlines(), 1)
               if DICT_READ.search(line)]
    assert readers == [], "\n".join(readers)


def test_the_grep_sees_the_reads_it_forbids() -> None:
    """The guard above finds each form of read it names."""
    for line in ('path = configuration.get("edx_ledger")', 'x = (config or {}).get("k")',
                 'os.environ.get("EDX_LEDGER")', 'os.environ["EDX_METRICS_FILE"]'):
        assert DICT_READ.search(line), line


def test_a_setting_comes_from_the_configuration_else_its_twin(monkeypatch) -> None:
    monkeypatch.setenv("EDX_LEDGER", "/tmp/twin")
    assert setting({LEDGER_KEY: "/tmp/configured"}, LEDGER_KEY) == "/tmp/configured"
    assert setting({}, LEDGER_KEY) == "/tmp/twin"
    monkeypatch.setenv("AWS_PROFILE_NAME", "no-twin")  # chaosaws' keys have none
    assert setting({}, "aws_profile_name") is None


def test_settings_are_typed_and_bad_ones_refused(monkeypatch) -> None:
    monkeypatch.delenv("EDX_LOAD_USERS", raising=False)
    settings = Settings.of({"edx_load_users": "35", "edx_load": "external"})
    assert settings.load_users == 35 and settings.load == "external"
    with pytest.raises(UserError) as refused:
        Settings.of({"edx_load_users": "many"})
    assert refused.value.field == "configuration.edx_load_users"
    with pytest.raises(UserError) as refused:
        Settings.of({"edx_load": "internal"})
    assert refused.value.field == "configuration.edx_load"


def _inventory(tmp_path: Path, name: str) -> Path:
    data = yaml.safe_load((REPO / "gamedays/environments/sandbox.yaml").read_text())
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump({**data, "name": name}))
    return path


def test_one_context_per_run_and_a_new_one_when_the_inventory_changes(tmp_path: Path) -> None:
    path = _inventory(tmp_path, "first")
    context = run_context({ENV_KEY: str(path)})
    assert run_context({ENV_KEY: str(path)}) is context
    assert environment_context(str(path)) is context
    assert context.platform is context.platform
    assert context.memo("x", object) is context.memo("x", object)
    path.write_text(path.read_text().replace("name: first", "name: second-name"))
    changed = run_context({ENV_KEY: str(path)})
    assert changed is not context and changed.environment.name == "second-name"
