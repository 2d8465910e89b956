"""The Chaos Toolkit configuration keys our activities and controls read.

Each key has an environment-variable twin, so a plain `chaos run` can be pointed at an
environment without editing the experiment.
"""

import os

from chaoslib.types import Configuration

from chaoslib_edx.files import default_file

ENV_KEY, CONFIRM_KEY, LEDGER_KEY = "edx_environment", "edx_confirm_production", "edx_ledger"
DEFAULT_ENVIRONMENT = "gamedays/environments/sandbox.yaml"


def setting(configuration: Configuration | None, key: str) -> str | None:
    """KEY from the configuration, else its environment variable (EDX_...), else None."""
    value = (configuration or {}).get(key) or os.environ.get(key.upper())
    return str(value) if value else None


def environment_file(configuration: Configuration | None) -> str:
    """The environment inventory the activities act on (the default one from the working
    directory, else the shipped sandbox inventory)."""
    configured = setting(configuration, ENV_KEY) or DEFAULT_ENVIRONMENT
    return str(default_file(configured)) if configured == DEFAULT_ENVIRONMENT else configured
