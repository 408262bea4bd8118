"""GET /api/messages and POST /api/messages/send."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, parse_model, read_json
from relaybox.api.deps import OneApiCaller, PlatformDep
from relaybox.api.oneapi import present
from relaybox.api.oneapi import responses as r
from relaybox.api.oneapi.params import ListParams
from relaybox.api.oneapi.queries import MessageListQuery
from relaybox.api.openapi import ONE_API, documented
from relaybox.api.oneapi.schemas import MessageUniversal
from relaybox.domain.money import format_amount
from relaybox.errors import ValidationFailed
from relaybox.services import queries, sending
from relaybox.services.dedup import check_duplicate, digest
from relaybox.services.rcs import FallbackInput, rcs_send_options
from relaybox.services.recipients import Recipient

router = APIRouter(prefix="/api/messages", tags=["messages"])


@router.get("")
@documented(security=ONE_API, query=MessageListQuery, ok=r.MessagePage, errors=r.ERRORS, operation_id="get_messages")
async def list_messages(request: Request, platform: PlatformDep, caller: OneApiCaller):
    params = ListParams(request.query_params, sorts=("id", "phone", "delivered"), min_limit=15)
    message_id = params.integer("filter[id]", "filter.id", minimum=1)
    campaign_id = params.integer("filter[campaign_id]", "filter.campaign_id")
    params.check()
    total, found = await queries.list_messages(
        platform,
        caller,
        raw_from=params.text("filter[from]"),
        raw_to=params.text("filter[to]"),
        message_id=message_id,
        campaign_id=campaign_id,
        reference_id=params.text("filter[reference_id]"),
        sort=params.sort,
        descending=params.descending,
        offset=params.offset,
        limit=params.limit,
    )
    return json_response(present.page([present.message(m) for m in found], total, params.offset, params.limit))


#: The channel lists of /api/messages/send that relaybox serves.
SERVED_CHANNELS = (["sms"], ["sms", "sms"], ["rcs"], ["rcs", "sms"])


@router.post("/send")
@documented(security=ONE_API, body=MessageUniversal, ok=r.SendMessageResponse, errors=r.ERRORS, operation_id="send_message",
            summary='One message, no campaign: channels ["sms"], ["rcs"] or ["rcs", "sms"]')
async def send_message(request: Request, platform: PlatformDep, caller: OneApiCaller):
    # Served by api/hot.py ahead of the framework; this route gives the endpoint its place in the
    # OpenAPI document and serves it wherever the app runs without that layer.
    raw, data = await read_json(request)
    return json_response(await send(platform, request.app.state.single_sends, caller, request.url.path, raw, data))


async def send(platform, single_sends, caller, path: str, raw: bytes, data: dict) -> dict:
    """POST /api/messages/send for a parsed JSON object `data` (`raw`: its bytes): the answer's body."""
    body = parse_model(MessageUniversal, data)
    if body.channels not in SERVED_CHANNELS:
        raise ValidationFailed.one(
            "channels", 'Supported channels: ["sms"], ["rcs"], and ["rcs", "sms"] (RCS with an SMS fallback).'
        )
    if "sms" in body.channels and body.sms is None:
        raise ValidationFailed.one("sms", "The sms field is required.")
    if body.channels[0] == "rcs":
        if body.rcs is None:
            raise ValidationFailed.one("rcs", "The rcs field is required.")
        fallback = None
        if "sms" in body.channels:
            fallback = FallbackInput(
                "sms", body.sms.text, body.sms.sender,
                body.sms.validity if body.sms.validity is not None else body.validity, body.sms.transliterate,
                check_stop_list=body.check_stop_list,
            )
        options, text = rcs_send_options(
            body.rcs, content_path="rcs", fallback=fallback, validity=body.validity, callback_url=body.callback_url,
            check_stop_list=body.check_stop_list,
        )
        options = replace(options, add_to_contact_book=body.add_to_contact_book)
        recipient = Recipient(
            path="phone",
            phone=body.phone.number,
            text=text,
            sender=body.rcs.get("sender"),
            reference=body.phone.reference_id,
            tariff_code=body.tariff_code,
            field_paths={"sender": "rcs.sender", "tariff_code": "tariff_code"},
        )
    else:
        recipient = Recipient(
            path="phone",
            phone=body.phone.number,
            text=body.sms.text,
            sender=body.sms.sender,
            reference=body.phone.reference_id,
            tariff_code=body.tariff_code,
            transliterate=body.sms.transliterate,
            field_paths={"text": "sms.text", "sender": "sms.sender", "tariff_code": "tariff_code"},
        )
        options = sending.SendOptions(validity=body.validity, callback_url=body.callback_url,
                                      stop_list="sms" if body.check_stop_list else None,
                                      add_to_contact_book=body.add_to_contact_book)
    if body.dry_run:
        # Checked and priced like a real send; nothing is stored, sent or charged.
        account, prepared, validity, _ = await sending.check_single(platform, caller, recipient, options, platform.clock())
        await sending.refuse_stop_listed(platform, caller, recipient, prepared, options)
        await check_duplicate(platform, caller, path, raw)
        return {
            "data": {
                "source": "rest",
                "type": options.channel,
                "phone": prepared.phone,
                "status": "accepted",
                "validity": validity,
                "amount": {"value": format_amount(prepared.price), "currency": account.currency},
                "sender": prepared.sender,
            }
        }
    message = await sending.send_single(platform, single_sends, caller, recipient, options, digest=digest(path, raw))
    return {"data": present.message_info(message)}
