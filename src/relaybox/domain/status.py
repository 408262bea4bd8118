"""Message and campaign statuses, and the rules for moving between them.

Statuses only move forward.  A delivery report can arrive late, twice, or out of
order (a receipt before the submit result has been recorded); ranking the
statuses lets every writer apply "newest wins" without coordination, and a
report that would move a message backwards is simply ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class MessageStatus(StrEnum):
    """A message's status, as both API families name it (transitions: `can_transition`)."""
    SCHEDULED = "scheduled"  # accepted with a start time in the future
    MODERATION = "moderation"  # held for review (never produced by relaybox itself)
    ACCEPTED = "accepted"  # accepted, charged, waiting for the dispatcher
    SENDING = "sending"  # claimed by a dispatcher; handed (or being handed) to a connector
    SENT = "sent"  # the operator took it; waiting for a delivery report
    DELIVERED = "delivered"
    READ = "read"  # RCS only: the recipient opened it
    EXPIRED = "expired"  # validity ended before delivery
    FAILED = "failed"  # rejected before reaching an operator (refunded)
    UNDELIVERED = "undelivered"
    UNKNOWN = "unknown"  # the operator never said
    NOT_SERVICE_USER = "not_service_user"  # RCS recipient without RCS


class CampaignStatus(StrEnum):
    """A campaign's status, as the One API names it."""
    CREATION = "creation"
    MODERATION = "moderation"
    SPAM = "spam"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    STOPPED = "stopped"
    DONE = "done"


class Channel(StrEnum):
    """A message's channel (its `type`)."""
    SMS = "sms"
    RCS = "rcs"


#: Position of each status on the way to its end.  Final statuses share the top
#: rank (nothing moves between them) except `read`, which may follow `delivered`.
_RANK: dict[MessageStatus, int] = {
    MessageStatus.SCHEDULED: 0,
    MessageStatus.MODERATION: 1,
    MessageStatus.ACCEPTED: 2,
    MessageStatus.SENDING: 3,
    MessageStatus.SENT: 4,
    MessageStatus.DELIVERED: 5,
    MessageStatus.EXPIRED: 5,
    MessageStatus.FAILED: 5,
    MessageStatus.UNDELIVERED: 5,
    MessageStatus.UNKNOWN: 5,
    MessageStatus.NOT_SERVICE_USER: 5,
    MessageStatus.READ: 6,
}

#: Statuses after which the message takes no further part in sending.  A
#: delivered RCS message may still become `read`, but it is done as far as its
#: campaign is concerned.
FINAL: frozenset[MessageStatus] = frozenset(s for s, r in _RANK.items() if r >= 5)
PENDING: frozenset[MessageStatus] = frozenset(MessageStatus) - FINAL

#: Statuses of a message that reached an operator (the short `sent` statistic).
REACHED_OPERATOR: frozenset[MessageStatus] = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.UNDELIVERED,
        MessageStatus.EXPIRED,
        MessageStatus.UNKNOWN,
    }
)

#: A campaign in one of these can be stopped (PATCH /api/campaigns/{id}/stop).
STOPPABLE: frozenset[CampaignStatus] = frozenset(
    {CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.MODERATION}
)


def is_final(status: MessageStatus) -> bool:
    """Whether the status is in FINAL: the message takes no further part in sending (a delivered RCS may still be read)."""
    return status in FINAL


def can_transition(old: MessageStatus, new: MessageStatus, channel: Channel = Channel.SMS) -> bool:
    """Whether a message in `old` may move to `new`.

    Only forward moves are allowed; between two final statuses only
    delivered → read, and only on RCS.
    """
    if old == new:
        return False
    if new is MessageStatus.READ:
        return channel is Channel.RCS and old in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.SENDING)
    if new is MessageStatus.NOT_SERVICE_USER and channel is not Channel.RCS:
        return False
    return _RANK[new] > _RANK[old]


#: The RCS statuses that are paid for: BSG bills "only RCS messages with the status Delivered".
RCS_PAID: frozenset[MessageStatus] = frozenset({MessageStatus.DELIVERED, MessageStatus.READ})


def refundable(old: MessageStatus, new: MessageStatus, channel: Channel = Channel.SMS) -> bool:
    """Whether the move old → new gives the message's price back.

    SMS: a message that fails before reaching an operator is refunded.
    Messages that an operator took are paid for whatever their fate; a message
    never sent (failed at submit, or expired/stopped while still waiting) is not.

    RCS: only a delivered (or read) message is paid for, so an RCS message is
    refunded when it ends in any other final status — not_service_user,
    undelivered, expired, unknown, failed — whether or not it reached an
    operator.  Its SMS fallback, if one is sent, is a message of its own and
    is charged by the SMS rule.  Final statuses never move into each other
    (except delivered → read, which is paid), so a message is refunded once.
    """
    if channel is Channel.RCS:
        return new in FINAL and new not in RCS_PAID and old not in FINAL
    if new is MessageStatus.FAILED:
        return old not in REACHED_OPERATOR
    if new is MessageStatus.EXPIRED:
        return old in (MessageStatus.SCHEDULED, MessageStatus.MODERATION, MessageStatus.ACCEPTED)
    return False


def short_statistics(counts: Mapping[str, int]) -> dict[str, int]:
    """The `{delivered, sent}` statistics of campaign list/get/send responses."""
    return {
        "delivered": counts.get("delivered", 0) + counts.get("read", 0),
        "sent": sum(counts.get(s.value, 0) for s in REACHED_OPERATOR),
    }


def detail_statistics(counts: Mapping[str, int]) -> dict[str, int]:
    """The per-status statistics of the campaign detail response."""
    stats = {
        s.value: counts.get(s.value, 0)
        for s in MessageStatus
        if s is not MessageStatus.NOT_SERVICE_USER
    }
    stats["not_viber_user"] = 0
    stats["not_rcs_user"] = counts.get(MessageStatus.NOT_SERVICE_USER.value, 0)
    return stats
