"""PagerDuty incidents and their acknowledgements, through the official client against a
wire-level fake of PagerDuty's REST API (tests/pagerduty.py)."""

from datetime import datetime, timezone

import pytest

from chaoslib_edx.detection.pagerduty import PagerDutyPages
from chaoslib_edx.errors import UserError
from tests.fakehttp import self_signed
from tests.pagerduty import TOKEN, FakePagerDuty, PagerDutyAccount

pytestmark = pytest.mark.integration
SERVICE = "PSVC123"


def _incident(ident: str, title: str, created: str, key: str | None = None) -> dict:
    return {"id": ident, "type": "incident", "title": title, "created_at": created,
            "incident_key": key, "service": {"id": SERVICE, "type": "service_reference"}}


def _entry(kind: str, created: str, who: str) -> dict:
    return {"type": kind, "created_at": created, "agent": {"summary": who}}


ACCOUNT = PagerDutyAccount(SERVICE, [
    _incident("Q1", 'ALARM: "edx-video-errors" in US East (N. Virginia)',
              "2026-11-26T10:00:10Z", "arn:aws:cloudwatch:alarm:edx-video-errors"),
    _incident("Q2", 'ALARM: "edx-lms-5xx-burn" in US East (N. Virginia)',
              "2026-11-26T10:05:00Z"),
], {"Q1": [_entry("trigger_log_entry", "2026-11-26T10:00:10Z", "CloudWatch"),
           _entry("acknowledge_log_entry", "2026-11-26T10:03:40Z", "Alice Ops"),
           _entry("acknowledge_log_entry", "2026-11-26T10:04:00Z", "Bob Ops")],
    "Q2": [_entry("trigger_log_entry", "2026-11-26T10:05:00Z", "CloudWatch")]})
ALARMS = {"edx-video-errors": "video-delivery", "edx-lms-5xx-burn": "lms-availability"}
T0 = datetime(2026, 11, 26, 10, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """A certificate for the fake, trusted by the client through SSL_CERT_FILE."""
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def test_incidents_become_pages_with_who_acknowledged(tls) -> None:
    with FakePagerDuty(ACCOUNT, tls) as api:
        pager = PagerDutyPages(TOKEN, SERVICE, ALARMS, "staging.yaml", api.url)
        pager.check()
        pages = pager.pages(T0, T0 + 600)
    first, second = pages
    assert (first.alert, first.slo, first.received - T0) == ("edx-video-errors",
                                                             "video-delivery", 10)
    assert (first.acked - T0, first.acked_by) == (220, "Alice Ops")  # the first ack
    assert first.dedup_key == "arn:aws:cloudwatch:alarm:edx-video-errors"
    assert (second.alert, second.slo, second.acked, second.dedup_key) == (
        "edx-lms-5xx-burn", "lms-availability", None, "Q2")
    query = ACCOUNT.queries[0]
    assert query["service_ids[]"] == [SERVICE]
    assert query["since"] == ["2026-11-26T10:00:00+00:00"]


@pytest.mark.parametrize("service, token, field", [
    ("PNOSUCH", TOKEN, "detection.pagerduty.service_id"),
    (SERVICE, "wrong-token", "detection.pagerduty.token_env"),
])
def test_an_unknown_service_or_a_bad_token_names_the_field(tls, service, token,
                                                          field) -> None:
    with FakePagerDuty(ACCOUNT, tls) as api:
        with pytest.raises(UserError) as err:
            PagerDutyPages(token, service, ALARMS, "staging.yaml", api.url).check()
    assert err.value.field == field and err.value.file == "staging.yaml"
