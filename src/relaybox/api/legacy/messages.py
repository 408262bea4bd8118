"""PUT/POST /rest/sms/create and /rest/sms/price.

`phone` sends one message without a task (BSG gives a single message no task
id; the One API's /api/messages/send does the same).  `phones` and
`individual` make one task — a campaign with source `rest` — and answer per
recipient: a refused recipient gets its own error object and the others are
accepted, priced and sent.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from relaybox.api.common import json_response, read_json
from relaybox.api.deps import LegacyCaller, PlatformDep
from relaybox.api.legacy import present, responses, schemas
from relaybox.api.openapi import LEGACY, documented
from relaybox.api.legacy.errors import error_body
from relaybox.api.legacy.schemas import INDIVIDUAL, PHONE, PHONES, SmsRequest
from relaybox.domain.inbound import two_way_number
from relaybox.errors import FieldError, LegacyCode, ValidationFailed
from relaybox.services import inbound, sending
from relaybox.services.recipients import Prepared, Recipient

router = APIRouter(tags=["legacy"])

#: For `phone`, errors about the message itself are answered inside `result`,
#: as BSG does (the official PHP client's tests read 21, 22, 23, 27 and 28
#: there, and 25 and 26 at the top level).
MESSAGE_LEVEL = frozenset(
    {
        LegacyCode.INVALID_PHONE,
        LegacyCode.REFERENCE_MISSING,
        LegacyCode.REFERENCE_EXISTS,
        LegacyCode.INVALID_REFERENCE,
        LegacyCode.INVALID_VALIDITY,
        LegacyCode.DIRECTION_NOT_ALLOWED,
    }
)

Result = Prepared | list[FieldError]


async def read_sms_request(request: Request) -> SmsRequest:
    """Read a legacy SMS request body. Raises ValidationFailed (the shared sender and text checked first, as BSG does)."""
    _, data = await read_json(request)
    if data.get("destination") != INDIVIDUAL:
        # The shared sender and text are checked before anything else: the
        # official Python client's own test expects 26 for an empty body sent
        # without any destination.
        originator, body, transliterate = schemas.shared_content(data)
        sending.check_content(originator, body, transliterate=transliterate)
    return schemas.parse_sms_request(data)


def recipients_of(req: SmsRequest) -> list[Recipient]:
    """The request's recipients with their One API-style field paths (`phones.<i>`)."""
    individual = req.destination == INDIVIDUAL
    return [
        Recipient(
            path="" if req.destination == PHONE else f"phones.{i}",
            phone=item.msisdn,
            phone_field="msisdn",
            text=item.body if individual else req.body,
            sender=item.originator if individual else req.originator,
            reference=item.reference,
            transliterate=req.transliterate,
        )
        for i, item in enumerate(req.items)
    ]


def options_of(req: SmsRequest, *, reference_required: bool) -> sending.SendOptions:
    """The send options of a legacy request; the SMS stop list is always checked (refusals per message, 33)."""
    return sending.SendOptions(
        validity=req.validity,
        start_at=req.send_time,
        callback_url=req.callback_url,
        source="rest",
        reference_required=reference_required,
        # The legacy API has no check_stop_list flag: the stop list protects the recipients, so
        # this family always honours it; a stop-listed recipient is refused with 33, per message.
        stop_list="sms",
    )


def per_recipient(req: SmsRequest, results: list[Result], currency: str, ids: list[int] | None) -> list[dict]:
    """One object per recipient, in the request's order; `ids` are the accepted ones' (None when pricing)."""
    next_id = iter(ids or ())
    return [
        present.accepted(next(next_id) if ids is not None else None, r.reference, r.price, currency)
        if isinstance(r, Prepared)
        else present.refused(r[0].legacy_code, item.reference)
        for item, r in zip(req.items, results)
    ]


def first_code(results: list[Result]) -> int:
    """The legacy code of the first refused recipient (there must be one: StopIteration otherwise)."""
    return next(r[0].legacy_code for r in results if isinstance(r, list))


async def two_way_refusals(platform, caller, req: SmsRequest) -> dict[int, list[FieldError]]:
    """With `2way` set: error 35 (request) when the account has no two-way number; error 36 when the
    originator is not one of them — for the request (phone, phones) or, for `individual`, per
    recipient (returned by index; the others are sent)."""
    if not req.two_way:
        return {}
    numbers = await inbound.two_way_numbers(platform, caller.account_id)
    if not numbers:
        raise ValidationFailed.one("2way", "The account has no two-way number.", LegacyCode.TWO_WAY_NOT_ACTIVATED)

    def wrong(originator: object) -> bool:
        try:
            return two_way_number(originator) not in numbers
        except ValueError:
            return True

    message = "The originator is not one of the account's two-way numbers."
    if req.destination != INDIVIDUAL:
        if wrong(req.originator):
            raise ValidationFailed.one("originator", message, LegacyCode.TWO_WAY_WRONG_SENDER)
        return {}
    return {
        i: [FieldError(f"phones.{i}.originator", message, LegacyCode.TWO_WAY_WRONG_SENDER)]
        for i, item in enumerate(req.items) if wrong(item.originator)
    }


def merged(refused: dict[int, list[FieldError]], results: list[Result], size: int) -> list[Result]:
    """The results of the recipients that were sent, with the refused ones back in their places."""
    rest = iter(results)
    return [refused[i] if i in refused else next(rest) for i in range(size)]


@router.put("/sms/create")
@router.post("/sms/create")
@documented(security=LEGACY, body=responses.SmsRequest, ok=responses.CreateResponse, errors=responses.ERRORS,
            operation_id="legacy_sms_create", summary="Send one message, or a task of many")
async def create(request: Request, platform: PlatformDep, caller: LegacyCaller):
    req = await read_sms_request(request)
    recipients = recipients_of(req)
    options = options_of(req, reference_required=True)
    refused = await two_way_refusals(platform, caller, req)
    if req.destination == PHONE:
        return json_response(await _create_one(request, platform, caller, req, recipients, options))
    if len(refused) == len(recipients):
        results: list[Result] = merged(refused, [], len(recipients))
        return json_response({**error_body(first_code(results)), "result": per_recipient(req, results, "", None)})

    outcome = await sending.send(
        platform, caller, [r for i, r in enumerate(recipients) if i not in refused], options,
        common_text=req.body if req.destination == PHONES else None,
        default_tariff=req.tariff, partial=True, message_ids=True,
    )
    results = merged(refused, outcome.results, len(recipients))
    result = per_recipient(req, results, outcome.account.currency, outcome.message_ids)
    if outcome.campaign is None:
        # Every recipient was refused: no task, nothing written.
        return json_response({**error_body(first_code(results)), "result": result})
    request.app.state.notify_engine()
    return json_response(
        {
            "task_id": str(outcome.campaign.id),
            "result": result,
            "total_price": present.number(outcome.campaign.total_price),
            "currency": outcome.campaign.currency,
        }
    )


async def _create_one(request, platform, caller, req: SmsRequest, recipients, options) -> dict:
    """One message, no task: written in the group commit shared with /api/messages/send."""
    reference = req.items[0].reference
    try:
        m = await sending.send_single(
            platform, request.app.state.single_sends, caller, recipients[0], options,
            digest=None, default_tariff=req.tariff,
        )
    except ValidationFailed as exc:
        code = exc.errors[0].legacy_code
        if code in MESSAGE_LEVEL:
            return {"result": present.refused(code, reference)}
        raise
    return {"result": present.accepted(m.id, m.reference_id, m.price, m.currency)}


@router.put("/sms/price")
@router.post("/sms/price")
@documented(security=LEGACY, body=responses.SmsRequest, ok=responses.PriceResponse, errors=responses.ERRORS,
            operation_id="legacy_sms_price", summary="Price what create would send; nothing is sent")
async def price(request: Request, platform: PlatformDep, caller: LegacyCaller):
    req = await read_sms_request(request)
    refused = await two_way_refusals(platform, caller, req)
    recipients = recipients_of(req)
    account, results = await sending.quote(
        platform, caller, [r for i, r in enumerate(recipients) if i not in refused],
        options_of(req, reference_required=False), default_tariff=req.tariff
    )
    results = merged(refused, results, len(recipients))
    priced = [r for r in results if isinstance(r, Prepared)]
    if req.destination == PHONE:
        if not priced:
            raise ValidationFailed(results[0])  # type: ignore[arg-type]
        return json_response({**present.OK, "totalprice": present.number(priced[0].price), "currency": account.currency})
    result = per_recipient(req, results, account.currency, None)
    if not priced:
        return json_response({**error_body(first_code(results)), "result": result})
    return json_response(
        {
            **present.OK,
            "totalprice": present.number(sum(p.price for p in priced)),
            "currency": account.currency,
            "result": result,
        }
    )
