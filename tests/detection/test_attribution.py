"""Attribution of alerts and pages to faults: back to back, carried over, late, acked."""

from chaoslib_edx.detection.attribution import Firing, Observed, Page, attribute, merged

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


def test_back_to_back_faults_sharing_an_slo_each_get_their_own_page() -> None:
    """The first fault opens a ticket on lms-availability, the second a page on it: the
    page came for the second's firing, never the first's (both have the alert's name)."""
    firings = [Firing("LmsAvailabilityBudgetBurn", "lms-availability", "ticket", T + 20, T + 58),
               Firing("LmsAvailabilityBudgetBurn", "lms-availability", "page", T + 66, T + 90)]
    pages = [Page("LmsAvailabilityBudgetBurn", "lms-availability", "grp", T + 68)]
    first, second = attribute(BACK_TO_BACK, firings, pages, run_end=T + 130)
    assert first.alerts == ["LmsAvailabilityBudgetBurn (ticket)"] and first.page_s is None
    assert second.alerts == ["LmsAvailabilityBudgetBurn (page)"] and second.page_s == 8


def test_a_page_for_a_firing_begun_before_the_fault_is_not_its_page() -> None:
    """A page that came late, during the next fault, for the previous fault's firing."""
    firings = [Firing("LmsAvailabilityBudgetBurn", "lms-availability", "page", T + 50, T + 70)]
    pages = [Page("LmsAvailabilityBudgetBurn", "lms-availability", "grp", T + 63)]
    first, second = attribute(BACK_TO_BACK, firings, pages, run_end=T + 130)
    assert first.page_s == 63 and second.page_s is None and second.alerts == []


def test_only_an_alert_of_an_slo_the_fault_breached_or_expects_detects_it() -> None:
    firings = [Firing("ApiLatencyBudgetBurn", "api-latency", "page", T + 5, T + 30),
               Firing("VideoDeliveryBudgetBurn", "video-delivery", "page", T + 9, T + 30)]
    pages = [Page("ApiLatencyBudgetBurn", "api-latency", "a", T + 6)]
    span = [Observed("origin-loss", T, T + 60)]
    (row,) = attribute(span, firings, pages, run_end=T + 60,
                       counted={"origin-loss": {"video-delivery"}})
    assert row.alerts == ["VideoDeliveryBudgetBurn (page)"] and row.detect_s == 9
    assert row.unrelated == ["ApiLatencyBudgetBurn (page)"] and row.page_s is None
    (nothing,) = attribute(span, firings, pages, run_end=T + 60, counted={"origin-loss": set()})
    assert nothing.alerts == [] and nothing.detect_s is None and len(nothing.unrelated) == 2


def test_blind_spots_of_several_sources_merge_into_disjoint_spans() -> None:
    assert merged([(5, 8), (1, 3), (2, 4), (8, 9)]) == [(1, 4), (5, 9)]
    assert merged([]) == []
