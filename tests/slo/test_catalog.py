"""The SLO catalog file: the committed one is the platform's SLO table; bad ones are named."""

from pathlib import Path

import pytest

from chaoslib_edx.errors import UserError
from chaoslib_edx.slo.catalog import load_catalog
from tests.conftest import REPO


def test_committed_catalog_matches_design() -> None:
    catalog = load_catalog(REPO / "gamedays/slos.yaml")
    objectives = {s.name: s.objective for s in catalog.slos}
    assert objectives == {"lms-availability": 0.999, "api-latency": 0.99,
                          "video-delivery": 0.9995, "authentication": 0.9999,
                          "session-continuity": 0.999}
    latency = catalog.get("api-latency").indicator
    assert (latency.threshold_ms, latency.percentile) == (500, 99)
    # Only learners see a lost session: the one SLO without a server-side indicator.
    assert [s.name for s in catalog.slos if s.measured == "client"] == ["session-continuity"]
    assert catalog.get("session-continuity").indicator.route_classes == ("session",)


@pytest.mark.parametrize("slo, field", [
    ({"name": "x", "title": "t", "objective": 1.5,
      "indicator": {"type": "availability", "route_classes": ["lms"]}}, "slos.0.objective"),
    ({"name": "x", "title": "t", "objective": 0.9,
      "indicator": {"type": "latency", "route_classes": ["api"]}}, "slos.0.indicator"),
    ({"name": "x", "title": "t", "objective": 0.9,
      "indicator": {"type": "availability", "route_classes": ["web"]}}, "slos.0.indicator"),
])
def test_bad_catalog_names_the_field(tmp_path: Path, slo: dict, field: str) -> None:
    import yaml

    path = tmp_path / "slos.yaml"
    path.write_text(yaml.safe_dump({"slos": [slo]}))
    with pytest.raises(UserError) as err:
        load_catalog(path)
    assert err.value.field == field


def test_unknown_slo_name_is_an_error() -> None:
    with pytest.raises(UserError, match="no SLO named 'nope'"):
        load_catalog(REPO / "gamedays/slos.yaml").get("nope")
