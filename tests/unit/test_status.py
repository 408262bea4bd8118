from hypothesis import given
from hypothesis import strategies as st

from relaybox.domain.status import (
    FINAL,
    Channel,
    MessageStatus,
    can_transition,
    detail_statistics,
    refundable,
    short_statistics,
)

statuses = st.sampled_from(list(MessageStatus))
channels = st.sampled_from(list(Channel))


def test_normal_path_is_allowed():
    path = ["scheduled", "accepted", "sending", "sent", "delivered"]
    for old, new in zip(path, path[1:]):
        assert can_transition(MessageStatus(old), MessageStatus(new))


def test_late_report_never_moves_backwards():
    assert not can_transition(MessageStatus.DELIVERED, MessageStatus.SENT)
    assert not can_transition(MessageStatus.UNDELIVERED, MessageStatus.DELIVERED)
    assert not can_transition(MessageStatus.SENT, MessageStatus.SENDING)


def test_read_follows_delivered_on_rcs_only():
    assert can_transition(MessageStatus.DELIVERED, MessageStatus.READ, Channel.RCS)
    assert not can_transition(MessageStatus.DELIVERED, MessageStatus.READ, Channel.SMS)
    assert not can_transition(MessageStatus.READ, MessageStatus.DELIVERED, Channel.RCS)


def test_not_service_user_is_rcs_only():
    assert can_transition(MessageStatus.SENT, MessageStatus.NOT_SERVICE_USER, Channel.RCS)
    assert not can_transition(MessageStatus.SENT, MessageStatus.NOT_SERVICE_USER, Channel.SMS)


@given(statuses, statuses, channels)
def test_no_cycles(a, b, channel):
    assert not (can_transition(a, b, channel) and can_transition(b, a, channel))


@given(statuses, statuses, channels)
def test_final_statuses_only_move_to_read(a, b, channel):
    if a in FINAL and can_transition(a, b, channel):
        assert b is MessageStatus.READ


@given(st.lists(st.tuples(statuses, channels), max_size=30))
def test_any_sequence_of_reports_ends_in_a_state_reachable_forward(reports):
    # Applying reports in any order only ever moves forward: the number of
    # accepted moves is bounded by the number of distinct ranks.
    current = MessageStatus.ACCEPTED
    moves = 0
    for status, _ in reports:
        if can_transition(current, status, Channel.RCS):
            current = status
            moves += 1
    assert moves <= 5


def test_refunds():
    assert refundable(MessageStatus.SENDING, MessageStatus.FAILED)
    assert refundable(MessageStatus.SCHEDULED, MessageStatus.FAILED)
    assert not refundable(MessageStatus.SENT, MessageStatus.UNDELIVERED)
    assert refundable(MessageStatus.ACCEPTED, MessageStatus.EXPIRED)
    assert not refundable(MessageStatus.SENT, MessageStatus.EXPIRED)
    assert not refundable(MessageStatus.SENDING, MessageStatus.EXPIRED)


def test_statistics_shapes():
    counts = {"delivered": 3, "read": 1, "sent": 2, "failed": 1, "undelivered": 1, "not_service_user": 2}
    assert short_statistics(counts) == {"delivered": 4, "sent": 7}
    detail = detail_statistics(counts)
    assert detail["not_rcs_user"] == 2 and detail["not_viber_user"] == 0
    assert "not_service_user" not in detail
    assert detail["read"] == 1 and detail["scheduled"] == 0
