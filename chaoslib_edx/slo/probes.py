"""Chaos Toolkit probes over the live SLOs of a running load (for steady-state hypotheses).

The metrics file is the JSON Lines the load's metrics plugin appends; probes read it
incrementally from this process (Locust runs in its own).
"""

import time

from chaoslib.types import Configuration, Secrets

from chaoslib_edx.context import Settings
from chaoslib_edx.load.series import Series
from chaoslib_edx.slo import evaluator
from chaoslib_edx.slo.catalog import load_catalog

__all__ = ["slo_status", "slo_met", "burn_rate_ok"]

# Seconds the newest data may lag the clock (the plugin flushes finished seconds).
FLUSH_LAG_S = 2
_series: dict[str, Series] = {}  # one incremental reader per metrics file


def _series_for(configuration: Configuration | None) -> Series:
    path = Settings.of(configuration).metrics_file
    if not path:
        raise ValueError("no metrics file: set configuration 'edx_metrics_file' or the "
                         "EDX_METRICS_FILE environment variable to the load's metrics JSONL")
    series = _series.get(path)
    if series is None:
        series = _series[path] = Series(path)
    return series.refresh()


def _catalog_path(configuration: Configuration | None) -> str:
    return Settings.of(configuration).slo_catalog


def slo_status(slo: str, window_seconds: int = 30, configuration: Configuration = None,
               secrets: Secrets = None) -> dict:
    """The SLO over the last WINDOW_SECONDS of live load: value, met, good/total, burn rate."""
    spec = load_catalog(_catalog_path(configuration)).get(slo, _catalog_path(configuration))
    end = int(time.time()) - FLUSH_LAG_S
    return evaluator.evaluate(spec, _series_for(configuration), end - window_seconds,
                              end).to_dict()


def slo_met(slo: str, window_seconds: int = 30, configuration: Configuration = None,
            secrets: Secrets = None) -> bool:
    """True when the SLO holds over the last WINDOW_SECONDS (False with no traffic)."""
    return bool(slo_status(slo, window_seconds, configuration, secrets)["met"])


def burn_rate_ok(slo: str, max_burn_rate: float = evaluator.DEFAULT_BURN_THRESHOLD,
                 long_window_seconds: int = 60, short_window_seconds: int = 5,
                 configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """False when both burn-rate windows of the SLO exceed MAX_BURN_RATE (page-worthy)."""
    spec = load_catalog(_catalog_path(configuration)).get(slo, _catalog_path(configuration))
    now = int(time.time()) - FLUSH_LAG_S
    alert = evaluator.burn_alert(spec, _series_for(configuration), now, long_window_seconds,
                                 short_window_seconds, max_burn_rate)
    return not alert["firing"]
