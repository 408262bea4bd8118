"""Changing campaigns: stop."""

from __future__ import annotations

from relaybox.domain.models import Caller, Campaign
from relaybox.domain.status import STOPPABLE, CampaignStatus, MessageStatus
from relaybox.errors import InvalidCampaignStatus, LegacyCode, NotFound
from relaybox.services.platform import Platform
from relaybox.store import campaigns as campaigns_store
from relaybox.store import messages as messages_store
from relaybox.store.transitions import StatusChange, apply_changes

#: Messages of a stopped campaign that were never handed to a connector end
#: `failed` and are refunded: a message never sent because its campaign was
#: stopped costs nothing (docs/compatibility.md, "Campaigns").
UNSENT = (MessageStatus.SCHEDULED.value, MessageStatus.MODERATION.value, MessageStatus.ACCEPTED.value)


async def stop_campaign(platform: Platform, caller: Caller, campaign_id: int) -> Campaign:
    """Stop a campaign (One API `PATCH /api/campaigns/{id}/stop`): its unsent messages (scheduled, moderation,
    accepted) become failed, and it is returned as stopped.

    Raises NotFound (legacy 30) for another account's or an unknown campaign, InvalidCampaignStatus when its
    status is not in STOPPABLE (domain/status.py).
    """
    now = platform.clock()

    # transact: on PostgreSQL an engine worker may hold some of these messages
    # (messages, then the campaign) while this holds the campaign; one of the two is
    # aborted as a deadlock victim and simply runs again.
    async def stop(conn) -> Campaign:
        campaign = await campaigns_store.get_campaign(conn, caller.account_id, campaign_id, for_update=True)
        if campaign is None:
            raise NotFound("Not found", LegacyCode.TASK_NOT_FOUND)
        if CampaignStatus(campaign.status) not in STOPPABLE:
            raise InvalidCampaignStatus()
        await campaigns_store.set_status(conn, campaign.id, CampaignStatus.STOPPED.value, finished_at=now)
        ids = await messages_store.campaign_message_ids(conn, campaign.id, UNSENT)
        await apply_changes(conn, [StatusChange(i, MessageStatus.FAILED, now) for i in ids], now)
        return await campaigns_store.get_campaign(conn, caller.account_id, campaign_id)

    return await platform.db.transact(stop)
