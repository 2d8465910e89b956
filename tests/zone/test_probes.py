"""The write probes' verdicts: a write the database refused is never counted as kept.
Against a sandbox inventory whose servers are not running: the write is refused for real
(connection refused on its endpoint), no server is needed."""

import pytest

from chaoslib_edx.environment import load_environment
from chaoslib_edx.sandbox import credentials
from chaoslib_edx.sandbox.layout import Layout
from chaoslib_edx.zone.probes import write_committed, writes_kept
from tests.conftest import free_port_base, write_env


@pytest.mark.unit
def test_a_refused_write_is_never_kept_and_none_made_is_nothing_lost(tmp_path) -> None:
    env = write_env(tmp_path, free_port_base())
    layout = Layout.of_inventory(load_environment(env).sandbox, env)
    layout.root.mkdir(parents=True)
    credentials.ensure(layout.secrets_file)
    config = {"edx_environment": str(env)}
    assert writes_kept("a", ["before"], configuration=config) is True  # none made yet
    assert write_committed("a", "before", configuration=config) is False
    assert writes_kept("a", ["before", "after"], configuration=config) is False
