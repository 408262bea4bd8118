"""The /api/campaigns endpoints: send, send-individual, send-groups, price, list, get, detail, stop."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import present
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.params import ListParams
from relaybox.api.oneapi.schemas import (
    CampaignPriceRequest,
    SmsSendGroupsRequest,
    SmsSendIndividualRequest,
    SmsSendRequest,
)
from relaybox.domain.phone import InvalidPhone, parse_phone
from relaybox.api.oneapi.queries import CampaignListQuery
from relaybox.api.openapi import ONE_API, documented
from relaybox.domain.money import from_units
from relaybox.errors import LegacyCode, NotFound, ValidationFailed
from relaybox.services import campaigns, group_sends, queries, sending
from relaybox.services.dedup import check_duplicate, digest
from relaybox.services.recipients import Recipient

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


def _start_at(value: object) -> object:
    # An integer start_at (the spec's typo) is taken as a Unix time.
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 2**33:
            raise ValidationFailed.one("start_at", "The start time must be a date and time.", LegacyCode.INVALID_SEND_TIME)
        return datetime.fromtimestamp(value, UTC)
    return value


@router.post("/sms/send")
@documented(security=ONE_API, body=SmsSendRequest, ok=r.SmsCampaignResponse, errors=r.ERRORS, operation_id="sms_send",
            summary="One text to up to 10,000 numbers: one campaign")
async def sms_send(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(SmsSendRequest, data)
    recipients = [
        Recipient(
            path=f"phones.{i}",
            phone=p.number,
            text=body.text,
            sender=body.sender,
            reference=p.reference_id,
            transliterate=body.transliterate,
            field_paths={"text": "text", "sender": "sender", "tariff_code": "tariff_code"},
        )
        for i, p in enumerate(body.phones)
    ]
    options = sending.SendOptions(validity=body.validity, start_at=body.start_at, callback_url=body.callback_url,
                                  add_to_contact_book=body.add_to_contact_book,
                                  stop_list="sms" if body.check_stop_list else None)
    outcome = await sending.send(
        platform, caller, recipients, options, common_text=body.text, default_tariff=body.tariff_code,
        digest=digest(request.url.path, raw),
    )
    request.app.state.notify_engine()
    return json_response(present.send_answer(outcome))


@router.post("/sms/send-individual")
@documented(security=ONE_API, body=SmsSendIndividualRequest, ok=r.SmsCampaignResponse, errors=r.ERRORS,
            operation_id="sms_send_individual", summary="A text and sender per number: one campaign")
async def sms_send_individual(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(SmsSendIndividualRequest, data)
    recipients = [
        Recipient(
            path=f"messages.{i}",
            phone=m.phone,
            phone_field="phone",
            text=m.text,
            sender=m.sender,
            reference=m.reference_id,
            tariff_code=m.tariff_code,
            transliterate=m.transliterate,
        )
        for i, m in enumerate(body.messages)
    ]
    options = sending.SendOptions(
        validity=body.validity, start_at=_start_at(body.start_at), callback_url=body.callback_url,
        add_to_contact_book=body.add_to_contact_book,
        stop_list="sms" if body.check_stop_list else None,
    )
    outcome = await sending.send(
        platform, caller, recipients, options, default_tariff=body.tariff_code, digest=digest(request.url.path, raw)
    )
    request.app.state.notify_engine()
    return json_response(present.send_answer(outcome))


@router.post("/sms/send-groups")
@documented(security=ONE_API, body=SmsSendGroupsRequest, ok=r.SmsCampaignResponse, errors=r.ERRORS,
            operation_id="sms_send_groups", summary="One text, personalised per contact, to contact lists: one campaign")
async def sms_send_groups(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(SmsSendGroupsRequest, data)
    options = sending.SendOptions(validity=body.validity, start_at=body.start_at, callback_url=body.callback_url,
                                  stop_list="sms" if body.check_stop_list else None)
    outcome = await group_sends.send_sms(
        platform, caller, group_ids=body.groups, sender=body.sender, text=body.text, transliterate=body.transliterate,
        options=options, default_tariff=body.tariff_code, digest=digest(request.url.path, raw),
    )
    request.app.state.notify_engine()
    return json_response(present.send_answer(outcome))


@router.post("/price")
@documented(security=ONE_API, body=CampaignPriceRequest, ok=r.Price, errors=r.ERRORS, operation_id="campaign_price",
            summary="What a campaign would cost; nothing is sent")
async def price(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(CampaignPriceRequest, data)
    recipients = [
        Recipient(
            path=f"messages.{i}",
            phone=m.phone,
            phone_field="phone",
            text=body.text,
            sender=body.sender,
            field_paths={"text": "text", "sender": "sender"},
        )
        for i, m in enumerate(body.messages)
    ]
    total, currency = await sending.estimate(
        platform, caller, recipients, sender=body.sender, text=body.text, default_tariff=body.tariff_code
    )
    if body.groups:
        # The lists' contacts priced as send-groups would charge them; a phone also in
        # `messages` is priced once.
        listed = {p for p in (_phone_or_none(m.phone) for m in body.messages) if p is not None}
        total += await group_sends.price_sms(
            platform, caller, group_ids=body.groups, text=body.text, sender=body.sender,
            default_tariff=body.tariff_code, skip_phones=listed,
        )
    await check_duplicate(platform, caller, request.url.path, raw)
    return json_response({"price": float(from_units(total)), "currency": currency})


def _phone_or_none(value: object) -> int | None:
    try:
        return parse_phone(value).number
    except InvalidPhone:
        return None


@router.get("")
@documented(security=ONE_API, query=CampaignListQuery, ok=r.CampaignPage, errors=r.ERRORS, operation_id="campaigns")
async def list_campaigns(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id", "sender", "type", "date", "status"), min_limit=30)
    ctype = params.choice("filter[type]", "filter.type", ("sms", "rcs", "whatsapp"), default=None)
    field = params.choice("search[field]", "search.field", ("sender", "taskname"), default=None)
    value = params.text("search[value]")
    params.check()
    total, found = await queries.list_campaigns(
        platform,
        caller,
        raw_from=params.text("filter[from]"),
        raw_to=params.text("filter[to]"),
        type=ctype,
        search_field=field,
        search_value=value[:255] if value else None,
        sort=params.sort,
        descending=params.descending,
        offset=params.offset,
        limit=params.limit,
    )
    return json_response(present.page([present.campaign(c) for c in found], total, params.offset, params.limit))


def _campaign_id(raw: str) -> int:
    # ASCII digits only: "¹" is a digit to str.isdigit but not to int()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound()
    return int(raw)


@router.get("/{campaign_id}")
@documented(security=ONE_API, ok=r.CampaignResponse, errors=r.ERRORS_BY_ID, operation_id="campaign")
async def get_campaign(campaign_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await queries.get_campaign(platform, caller, _campaign_id(campaign_id))
    return json_response({"data": present.campaign(found)})


@router.get("/{campaign_id}/detail")
@documented(security=ONE_API, ok=r.CampaignDetailResponse, errors=r.ERRORS_BY_ID, operation_id="campaign_details")
async def campaign_detail(campaign_id: str, platform: PlatformDep, caller: OneApiCaller):
    found = await queries.get_campaign(platform, caller, _campaign_id(campaign_id))
    return json_response({"data": present.campaign_detail(found)})


@router.patch("/{campaign_id}/stop")
@documented(security=ONE_API, ok=r.CampaignResponse, errors={**r.ERRORS_BY_ID, 422: r.StopRefused},
            operation_id="campaign_stop", summary="Stop a scheduled, sending, paused or moderated campaign")
async def stop(campaign_id: str, platform: PlatformDep, caller: OneApiCaller):
    stopped = await campaigns.stop_campaign(platform, caller, _campaign_id(campaign_id))
    return json_response({"data": present.campaign(stopped)})
