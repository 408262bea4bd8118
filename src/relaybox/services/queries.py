"""Read side: message and campaign lookups, with the filter rules of docs/compatibility.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from relaybox.domain.models import Caller, Campaign, Message
from relaybox.domain.rules import RuleViolation, check_reference
from relaybox.domain.timefmt import InvalidTime, parse_time
from relaybox.errors import FieldError, LegacyCode, NotFound, ValidationFailed
from relaybox.services.platform import Platform
from relaybox.store import campaigns as campaigns_store
from relaybox.store import messages as messages_store
from relaybox.store.campaigns import CampaignQuery
from relaybox.store.messages import MessageQuery

#: The widest date range a list may cover (BSG: "the maximum period is 3 months").
MAX_RANGE = timedelta(days=92)
#: The campaign list may look this far into the future (scheduled campaigns).
CAMPAIGN_FUTURE = timedelta(days=30)


def _time(value: str | None, field: str, errors: list[FieldError]) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_time(value)
    except InvalidTime as exc:
        errors.append(FieldError(field, f"The {field} {exc}.", LegacyCode.INVALID_PARAMETERS))
        return None


def date_range(
    raw_from: str | None, raw_to: str | None, now: datetime, *, future: timedelta
) -> tuple[datetime, datetime]:
    """Resolve filter[from]/filter[to]: to defaults to now, from to `to` − 3 months."""
    errors: list[FieldError] = []
    start = _time(raw_from, "filter.from", errors)
    end = _time(raw_to, "filter.to", errors)
    if errors:
        raise ValidationFailed(errors)
    end = end or now
    start = start or end - timedelta(days=90)
    if end > now + future + timedelta(seconds=1):
        raise ValidationFailed.one("filter.to", "The filter.to must not be in the future." if not future else
                                   "The filter.to must be at most 30 days ahead.")
    if start > end:
        raise ValidationFailed.one("filter.from", "The filter.from must be before filter.to.")
    if end - start > MAX_RANGE:
        raise ValidationFailed.one("filter.from", "The period must not exceed 3 months.")
    return start, end


async def list_messages(
    platform: Platform,
    caller: Caller,
    *,
    raw_from: str | None,
    raw_to: str | None,
    message_id: int | None,
    campaign_id: int | None,
    reference_id: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[int, list[Message]]:
    """One page of the caller's messages created in [filter.from, filter.to] (One API `GET /api/messages`);
    returns (total, messages).

    Raises ValidationFailed for a bad or future range (`date_range`).
    """
    start, end = date_range(raw_from, raw_to, platform.clock(), future=timedelta(0))
    query = MessageQuery(
        account_id=caller.account_id,
        created_from=start,
        created_to=end,
        message_id=message_id,
        campaign_id=campaign_id,
        reference_id=reference_id,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    async with platform.db.read() as conn:
        return await messages_store.list_messages(conn, query)


async def get_message(platform: Platform, caller: Caller, message_id: int) -> Message:
    """One of the caller's messages by id. Raises NotFound (legacy 20)."""
    async with platform.db.read() as conn:
        message = await messages_store.get_message(conn, caller.account_id, message_id)
    if message is None:
        raise NotFound("Not found", LegacyCode.SMS_NOT_FOUND)
    return message


async def get_message_by_reference(platform: Platform, caller: Caller, reference: str) -> Message:
    """One of the caller's messages by its reference (legacy `GET /rest/sms/reference/{reference}`).

    Raises ValidationFailed (legacy 27) for a malformed reference, NotFound (legacy 20) when none has it.
    """
    try:
        check_reference(reference)
    except RuleViolation as exc:  # no message can have it
        raise ValidationFailed.one("reference", str(exc), LegacyCode.INVALID_REFERENCE) from None
    async with platform.db.read() as conn:
        message = await messages_store.get_message_by_reference(conn, caller.account_id, reference)
    if message is None:
        raise NotFound("Not found", LegacyCode.SMS_NOT_FOUND)
    return message


async def list_campaigns(
    platform: Platform,
    caller: Caller,
    *,
    raw_from: str | None,
    raw_to: str | None,
    type: str | None,
    search_field: str | None,
    search_value: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[int, list[Campaign]]:
    """One page of the caller's campaigns created in [filter.from, filter.to] (One API `GET /api/campaigns`);
    returns (total, campaigns). `filter.to` may be up to CAMPAIGN_FUTURE ahead (scheduled campaigns).

    Raises ValidationFailed for a bad range (`date_range`).
    """
    start, end = date_range(raw_from, raw_to, platform.clock(), future=CAMPAIGN_FUTURE)
    query = CampaignQuery(
        account_id=caller.account_id,
        created_from=start,
        created_to=end,
        type=type,
        search_field=search_field,
        search_value=search_value,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    async with platform.db.read() as conn:
        return await campaigns_store.list_campaigns(conn, query)


async def get_campaign(platform: Platform, caller: Caller, campaign_id: int, legacy_code: int = LegacyCode.TASK_NOT_FOUND) -> Campaign:
    """One of the caller's campaigns. Raises NotFound with `legacy_code` (default 30)."""
    async with platform.db.read() as conn:
        campaign = await campaigns_store.get_campaign(conn, caller.account_id, campaign_id)
    if campaign is None:
        raise NotFound("Not found", legacy_code)
    return campaign
