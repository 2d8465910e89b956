"""Attribution of alerts and pages to faults: back to back, carried over, late, acked."""

from chaoslib_edx.detection.attribution import Firing, Observed, Page, attribute

T = 1_800_000_000.0
BACK_TO_BACK = [Observed("rds-failover", T, T + 60), Observed("origin-loss", T + 60, T + 120)]


def test_back_to_back_faults_each_get_their_own_alerts() -> None:
    """The first fault's alert still firing when the second goes live is carried over,
    not counted again; an alert that starts during the second is the second's."""
    firings = [Firing("LmsAvailabilityBudgetBurn", "lms-availability", "page", T + 12, T + 75),
               Firing("VideoDeliveryBudgetBurn", "video-delivery", "page", T + 70, T + 90)]
    first, second = attribute(BACK_TO_BACK, firings, [], run_end=T + 130)
    assert first.alerts == ["LmsAvailabilityBudgetBurn (page)"] and first.detect_s == 12
    assert first.slo == "lms-availability" and second.slo == "video-delivery"
    assert first.carried_over == []
    assert second.alerts == ["VideoDeliveryBudgetBurn (page)"] and second.detect_s == 10
    assert second.carried_over == ["LmsAvailabilityBudgetBurn (page)"]


def test_an_alert_firing_before_the_fault_is_not_its_detection() -> None:
    firings = [Firing("ApiLatencyBudgetBurn", "api-latency", "ticket", T - 30, T + 20)]
    (row,) = attribute([Observed("db", T, T + 60)], firings, [], run_end=T + 60)
    assert row.alerts == [] and row.detect_s is None
    assert row.carried_over == ["ApiLatencyBudgetBurn (ticket)"]


def test_an_alert_after_the_observation_window_belongs_to_nobody() -> None:
    firings = [Firing("ApiLatencyBudgetBurn", "api-latency", "page", T + 61, T + 70)]
    (row,) = attribute([Observed("db", T, T + 60)], firings, [], run_end=T + 100)
    assert row.alerts == [] and row.detect_s is None


def test_page_and_real_acknowledgement() -> None:
    firings = [Firing("VideoDeliveryBudgetBurn", "video-delivery", "page", T + 8, T + 40,
                      "https://runbooks.example.com/edx/video-delivery")]
    pages = [Page("LmsAvailabilityBudgetBurn", "lms-availability", "other", T + 5, T + 6, "x"),
             Page("VideoDeliveryBudgetBurn", "video-delivery", "k1", T + 10, T + 25, "alice")]
    (row,) = attribute([Observed("origin-loss", T, T + 60)], firings, pages, run_end=T + 60,
                       auto_ack_after_s=5)
    assert (row.detect_s, row.page_s, row.ack_s) == (8, 10, 25)
    assert row.acked_by == "alice" and not row.ack_simulated  # a real ack beats the simulation
    assert row.runbooks == ["https://runbooks.example.com/edx/video-delivery"]


def test_simulated_acknowledgement_within_the_run_only() -> None:
    firings = [Firing("VideoDeliveryBudgetBurn", "video-delivery", "page", T + 8, T + 40)]
    pages = [Page("VideoDeliveryBudgetBurn", "video-delivery", "k1", T + 10)]
    (row,) = attribute([Observed("origin-loss", T, T + 60)], firings, pages, run_end=T + 60,
                       auto_ack_after_s=30)
    assert (row.page_s, row.ack_s, row.ack_simulated) == (10, 40, True)
    # The run ended before the simulated on-call would have answered: not acknowledged.
    (late,) = attribute([Observed("origin-loss", T, T + 60)], firings, pages, run_end=T + 35,
                        auto_ack_after_s=30)
    assert (late.page_s, late.ack_s, late.ack_simulated) == (10, None, False)


def test_an_acknowledgement_after_the_run_does_not_count() -> None:
    firings = [Firing("VideoDeliveryBudgetBurn", "video-delivery", "page", T + 8, T + 40)]
    pages = [Page("VideoDeliveryBudgetBurn", "video-delivery", "k1", T + 10, T + 500, "bob")]
    (row,) = attribute([Observed("origin-loss", T, T + 60)], firings, pages, run_end=T + 60)
    assert row.page_s == 10 and row.ack_s is None
