"""The capacity runner's preflight refuses before anything starts."""

from pathlib import Path

import pytest
import yaml

from chaoslib_edx.capacity.plan import load_plan
from chaoslib_edx.capacity.runner import CapacityRun
from chaoslib_edx.targets import GuardrailRefused
from tests.capacity.test_plan import _plan


def test_load_alone_against_production_needs_its_confirmation(tmp_path: Path) -> None:
    """No fault is held (no degraded sweep), yet a sweep's load can take a platform down."""
    env = tmp_path / "prod.yaml"
    env.write_text(yaml.safe_dump({
        "name": "prod", "kind": "production", "driver": "aws", "aws": {"region": "eu-west-1"},
        "endpoints": {"lms_url": "https://lms.example.com", "cdn_url": "https://cdn.example.com",
                      "course_keys": ["course-v1:edX+DemoX+Demo_Course"]}}))
    loaded = load_plan(_plan(tmp_path, environment=str(env), degraded=[]))
    with pytest.raises(GuardrailRefused) as refused:
        CapacityRun(loaded, tmp_path / "out").preflight()
    assert refused.value.file == str(env) and refused.value.field == "kind"
    assert "--confirm-production prod" in str(refused.value)
    assert not (tmp_path / "out").exists()
