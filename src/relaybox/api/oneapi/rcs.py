"""POST /api/campaigns/rcs/send, /api/campaigns/rcs/send-groups and POST /api/messages/rcs/send.

(`POST /api/messages/send` with `channels: ["rcs", "sms"]` is in messages.py.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import present
from relaybox.api.oneapi import responses as r
from relaybox.api.openapi import ONE_API, documented
from relaybox.api.oneapi.schemas import AlternativeChannel, RcsCampaignRequest, RcsGroupsRequest, RcsMessageRequest
from relaybox.services import group_sends, sending
from relaybox.services.dedup import digest
from relaybox.services.rcs import FallbackInput, rcs_send_options
from relaybox.services.recipients import Recipient

router = APIRouter(tags=["rcs"])

#: Where the agent name and the tariff of an RCS request live (not under the phone's path).
_PATHS = {"sender": "sender", "tariff_code": "tariff_code"}


def _fallback(alternative: AlternativeChannel | None) -> FallbackInput | None:
    if alternative is None or alternative.sms is None:
        return None
    sms = alternative.sms
    return FallbackInput("alternative_channel.sms", sms.text, sms.sender, sms.validity,
                         check_stop_list=sms.check_stop_list)


@router.post("/api/campaigns/rcs/send")
@documented(security=ONE_API, body=RcsCampaignRequest, ok=r.SmsCampaignResponse, errors=r.ERRORS, operation_id="rcs_send")
async def rcs_campaign_send(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(RcsCampaignRequest, data)
    options, text = rcs_send_options(
        body.options,
        fallback=_fallback(body.alternative_channel),
        validity=body.validity,
        start_at=body.start_at,
        callback_url=body.callback_url,
        check_stop_list=body.check_stop_list,
    )
    options = replace(options, add_to_contact_book=body.add_to_contact_book)
    recipients = [
        Recipient(path=f"phones.{i}", phone=p.number, text=text, sender=body.sender, reference=p.reference_id,
                  field_paths=_PATHS)
        for i, p in enumerate(body.phones)
    ]
    outcome = await sending.send(
        platform, caller, recipients, options, common_text=text, default_tariff=body.tariff_code,
        digest=digest(request.url.path, raw),
    )
    request.app.state.notify_engine()
    return json_response(present.send_answer(outcome))


@router.post("/api/campaigns/rcs/send-groups")
@documented(security=ONE_API, body=RcsGroupsRequest, ok=r.SmsCampaignResponse, errors=r.ERRORS,
            operation_id="rcs_send_groups", summary="RCS content, personalised per contact, to contact lists")
async def rcs_send_groups(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(RcsGroupsRequest, data)
    alternative = body.alternative_channel.sms if body.alternative_channel else None

    def make_options(content, fallback_text):
        fallback = _fallback(body.alternative_channel)
        if fallback is not None:
            fallback = dataclasses.replace(fallback, text=fallback_text)
        return rcs_send_options(
            content, fallback=fallback, validity=body.validity, start_at=body.start_at,
            callback_url=body.callback_url, check_stop_list=body.check_stop_list,
        )

    outcome = await group_sends.send_rcs(
        platform, caller, group_ids=body.groups, sender=body.sender, content=body.options, fallback=alternative,
        make_options=make_options, default_tariff=body.tariff_code, digest=digest(request.url.path, raw),
    )
    request.app.state.notify_engine()
    return json_response(present.send_answer(outcome))


@router.post("/api/messages/rcs/send")
@documented(security=ONE_API, body=RcsMessageRequest, ok=r.MessageResponse, errors=r.ERRORS, operation_id="rcs_single")
async def rcs_message_send(request: Request, platform: PlatformDep, caller: OneApiCaller):
    raw, data = await read_json(request)
    body = parse_model(RcsMessageRequest, data)
    options, text = rcs_send_options(
        body.options, fallback=_fallback(body.alternative_channel), validity=body.validity,
        callback_url=body.callback_url, check_stop_list=body.check_stop_list,
    )
    options = replace(options, add_to_contact_book=body.add_to_contact_book)
    recipient = Recipient(
        path="phone", phone=body.phone.number, text=text, sender=body.sender, reference=body.phone.reference_id,
        tariff_code=body.tariff_code, field_paths=_PATHS,
    )
    message = await sending.send_single(
        platform, request.app.state.single_sends, caller, recipient, options, digest=digest(request.url.path, raw)
    )
    return json_response({"data": present.message_info(message)})
