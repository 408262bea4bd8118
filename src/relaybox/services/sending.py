"""Accepting messages: campaigns (same text or individual texts) and single messages.

A request is validated and priced in one pass, then written in one
transaction: the reservation of its price, the campaign row and one multi-row
insert of its messages.  Nothing is written when anything is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from relaybox.domain.models import Account, Caller, Campaign, Message
from relaybox.domain.rcs import SmsFallback
from relaybox.domain.rules import DEFAULT_VALIDITY_HOURS, RuleViolation, check_sender, check_validity, prepare_text
from relaybox.domain.status import CampaignStatus, MessageStatus
from relaybox.domain.timefmt import InvalidTime, parse_time
from relaybox.domain.webhook_urls import check_webhook_url, parse_networks
from relaybox.errors import AccountBlocked, DuplicateRequest, FieldError, InsufficientFunds, LegacyCode, ValidationFailed
from relaybox.observability.metrics import count_stored
from relaybox.services import contacts
from relaybox.services.platform import Platform, read_account
from relaybox.services.rate_limits import MessagesTaken
from relaybox.services.recipients import Prepared, Recipient, prepare
from relaybox.services.single_sends import PendingSend, SingleSendQueue, stop_listed_error
from relaybox.store import accounts as accounts_store
from relaybox.store import campaigns as campaigns_store
from relaybox.store import fingerprints
from relaybox.store import messages as messages_store
from relaybox.store import bulk, stoplist
from relaybox.store.tables import messages as messages_table

#: How far ahead a campaign may be scheduled (the campaign list accepts `to` up to now + 30 days).
MAX_SCHEDULE_AHEAD = timedelta(days=30)
#: Most recipients one request may carry (both families; legacy error 12 above it).
MAX_RECIPIENTS = 10_000
#: Transactions a send may run when concurrent requests keep taking its references first.
REFERENCE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class SendOptions:
    """A send's options shared by its recipients: validity (hours) and start time as the request gave them,
    callback URL, channel, source, RCS content and SMS fallback, contact-book and stop-list handling.
    """
    validity: object = None
    start_at: object = None
    callback_url: str | None = None
    source: str = "rest"  # MessageSource: "rest" is "sent by the API" (both families); "web" is BSG's web UI
    channel: str = "sms"
    reference_required: bool = False
    rcs_options: dict | None = None  # RCS: the checked content (domain/rcs.py)
    fallback: SmsFallback | None = None  # RCS: the SMS to send if it cannot be delivered
    #: Errors the caller found in the request's own content (RCS options, fallback):
    #: reported together with the recipients' errors, so every error comes at once.
    content_errors: tuple[FieldError, ...] = ()
    #: Add the recipients' phones that are not in the account's contact book to it (One API
    #: `add_to_contact_book`), in the send's own transaction.
    add_to_contact_book: bool = False
    #: The stop list to check ("sms" | "rcs"; store/stoplist.py) in the writing transaction, or
    #: None not to check it.  A stop-listed recipient is never written, sent nor charged.
    stop_list: str | None = None
    #: The error when every recipient is stop-listed (One API), instead of one per recipient.
    everyone_stop_listed: FieldError | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a send accepted: the campaign (if any), its messages, and per-recipient errors."""

    campaign: Campaign | None
    messages: list[Message]
    results: list[Prepared | list[FieldError]]
    account: Account
    #: Ids of a campaign's accepted messages, in the order of `results` (only when asked for).
    message_ids: list[int] = field(default_factory=list)
    #: Recipients left out because they are on the stop list: one error each (path, message).
    skipped: list[FieldError] = field(default_factory=list)


#: How long an account's currency, tariff and webhook URL are reused before being read again.
ACCOUNT_CACHE_SECONDS = 5.0


async def load_account(platform: Platform, caller: Caller) -> Account:
    """The caller's account as of at most a few seconds ago; raises AccountBlocked if it is not in
    the store, as authentication does for a gone account.

    Only its settings (currency, tariff, webhook URL) are used for pricing;
    the balance is always checked in the writing transaction.
    """
    now = time.monotonic()
    cached = platform.account_cache.get(caller.account_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    account = await platform.flights.run(("account", caller.account_id), lambda: read_account(platform, caller.account_id))
    if account is None:  # accounts are never deleted: a token that outlived a store restored from a backup
        raise AccountBlocked()
    if len(platform.account_cache) > 10000:
        platform.account_cache.clear()
    platform.account_cache[caller.account_id] = (now + ACCOUNT_CACHE_SECONDS, account)
    return account


@lru_cache(maxsize=4096)
def callback_url_problem(url: str, allow_networks: str) -> str | None:
    """What is wrong with a callback URL (domain/webhook_urls.py), or None.  Cached: a tenant
    sends the same URL with every message, and the hot path checks it on each."""
    try:
        check_webhook_url(url, parse_networks(allow_networks))
    except RuleViolation as exc:
        return str(exc)
    return None


def check_common(options: SendOptions, now: datetime, allow_networks: str = "") -> tuple[int, datetime | None]:
    """The request-level fields: validity, start time, callback URL.  `allow_networks`: the
    operator's `webhook_allow_networks`, which lets literal addresses inside them through."""
    errors: list[FieldError] = []
    if options.callback_url:  # "" is "no callback", as BSG's own examples send it
        problem = callback_url_problem(options.callback_url, allow_networks) if isinstance(
            options.callback_url, str) else "The callback URL must be a string."
        if problem:
            errors.append(FieldError("callback_url", problem, LegacyCode.INVALID_PARAMETERS))
    validity = 72
    try:
        validity = check_validity(options.validity)
    except RuleViolation as exc:
        errors.append(FieldError("validity", str(exc), LegacyCode.INVALID_VALIDITY))
    start_at = None
    if options.start_at not in (None, ""):
        try:
            start_at = parse_time(options.start_at) if not isinstance(options.start_at, datetime) else options.start_at
        except InvalidTime as exc:
            errors.append(FieldError("start_at", f"The start time {exc}.", LegacyCode.INVALID_SEND_TIME))
        else:
            if start_at > now + MAX_SCHEDULE_AHEAD:
                errors.append(
                    FieldError("start_at", "The start time must be within 30 days.", LegacyCode.INVALID_SEND_TIME)
                )
            elif start_at <= now:
                start_at = None  # a time already past means "now"
    if errors:
        raise ValidationFailed(errors)
    return validity, start_at


def raise_all(results: list[Prepared | list[FieldError]]) -> list[Prepared]:
    """The prepared recipients, or ValidationFailed with every recipient's errors at once."""
    errors = [e for r in results if isinstance(r, list) for e in r]
    if errors:
        raise ValidationFailed(errors)
    return results  # type: ignore[return-value]


async def price_recipients(
    platform: Platform, caller: Caller, recipients: list[Recipient], *, default_tariff: object = None, channel: str = "sms",
    reference_required: bool = False, fallback: SmsFallback | None = None,
) -> tuple[Account, list[Prepared | list[FieldError]]]:
    """Check and price each recipient against the caller's account; returns (account, per recipient a Prepared
    or its field errors).

    Raises ValidationFailed (legacy 6) when `default_tariff` is given and is not a known tariff code.
    """
    account = await load_account(platform, caller)
    tariff = account.tariff_code
    if default_tariff is not None:
        if isinstance(default_tariff, bool) or not isinstance(default_tariff, int) or not platform.prices.has_tariff(default_tariff):
            raise ValidationFailed.one("tariff_code", "The tariff is invalid.", LegacyCode.INVALID_TARIFF)
        tariff = default_tariff
    results = prepare(
        recipients,
        prices=platform.prices,
        currency=account.currency,
        default_tariff=tariff,
        channel=channel,
        reference_required=reference_required,
        fallback=fallback,
    )
    return account, results


def check_content(sender: object = None, text: object = None, *, transliterate: bool = False) -> None:
    """Refuse a sender or text that every message of a request shares (legacy 25 / 26).

    A value of None is not checked: whether it may be absent is the caller's business.
    """
    errors: list[FieldError] = []
    if sender is not None:
        try:
            check_sender(sender)
        except RuleViolation as exc:
            errors.append(FieldError("sender", str(exc), LegacyCode.INVALID_ORIGINATOR))
    if text is not None:
        try:
            prepare_text(text, transliterate)
        except RuleViolation as exc:
            errors.append(FieldError("text", str(exc), LegacyCode.INVALID_TEXT))
    if errors:
        raise ValidationFailed(errors)


async def quote(
    platform: Platform, caller: Caller, recipients: list[Recipient], options: SendOptions, *, default_tariff: object = None,
) -> tuple[Account, list[Prepared | list[FieldError]]]:
    """Check and price messages as `send` would, per recipient, storing and sending nothing.

    Request-level errors (validity, start time, tariff) raise; a recipient's
    errors are its result.  References are checked for form and repeats within
    the request, not against the store: nothing is reserved by a quote.
    """
    check_common(options, platform.clock(), platform.settings.webhook_allow_networks)
    account, results = await price_recipients(
        platform, caller, recipients, default_tariff=default_tariff, channel=options.channel,
        reference_required=options.reference_required,
    )
    return account, await _stop_listed_left_out(platform, caller, recipients, results, options.stop_list)


async def _stop_listed_left_out(
    platform: Platform, caller: Caller, recipients: list[Recipient], results: list[Prepared | list[FieldError]],
    channel: str | None,
) -> list[Prepared | list[FieldError]]:
    """`results` with the stop-listed recipients refused as a send would (a read: a price or a quote)."""
    phones = [r.phone for r in results if isinstance(r, Prepared)]
    if not channel or not phones:
        return results
    async with platform.db.read() as conn:
        listed = await stoplist.stoplisted_phones(conn, caller.account_id, channel, phones)
    return _mark_stop_listed(results, recipients, listed, channel)[0] if listed else results


async def estimate(
    platform: Platform, caller: Caller, recipients: list[Recipient], *, sender: object, text: object,
    default_tariff: object = None,
) -> tuple[int, str]:
    """Price messages without storing or sending anything: (total units, currency).  Phones on the
    SMS stop list are left out (priced 0), as `sms/send` leaves them out by default."""
    account, results = await price_recipients(platform, caller, recipients, default_tariff=default_tariff)
    if not recipients:
        check_content(sender, text)  # no phones to price, but the sender and text must still be valid
    prepared = raise_all(results)
    if prepared:
        results = await _stop_listed_left_out(platform, caller, recipients, results, "sms")
    return sum(p.price for p in results if isinstance(p, Prepared)), account.currency


async def send(
    platform: Platform,
    caller: Caller,
    recipients: list[Recipient],
    options: SendOptions,
    *,
    campaign: bool = True,
    common_text: str | None = None,
    default_tariff: object = None,
    partial: bool = False,
    message_ids: bool = False,
    digest: str | None = None,
) -> Outcome:
    """Accept messages.  With `partial`, recipients with errors are skipped (legacy);
    otherwise any error refuses the whole request (One API).  With `message_ids`,
    a campaign's outcome carries the id of each accepted message (legacy answers per recipient).
    With `digest`, a request fingerprint accepted within the duplicate window is refused (429)."""
    now = platform.clock()
    common_errors: list[FieldError] = list(options.content_errors)
    try:
        validity, start_at = check_common(options, now, platform.settings.webhook_allow_networks)
    except ValidationFailed as exc:
        if partial:
            raise  # a request-level error: nothing is sent
        common_errors += exc.errors
    try:
        account, results = await price_recipients(
            platform, caller, recipients, default_tariff=default_tariff, channel=options.channel,
            reference_required=options.reference_required, fallback=options.fallback,
        )
    except ValidationFailed as exc:  # a bad tariff: reported after the request's own errors
        raise ValidationFailed(common_errors + exc.errors) from None
    if common_errors:
        raise ValidationFailed(common_errors + [e for r in results if isinstance(r, list) for e in r])
    if not partial:
        raise_all(results)
    accepted = [r for r in results if isinstance(r, Prepared)]
    if not accepted:
        return Outcome(None, [], results, account)

    due_at = start_at or now
    status = MessageStatus.SCHEDULED if start_at else MessageStatus.ACCEPTED
    total_price = sum(p.price for p in accepted)
    callback_url = options.callback_url or account.webhook_url

    sent_results = results
    # The rows (and, on SQLite, their driver values: store/bulk.py) are made before the write
    # transaction, so that a large campaign holds SQLite's one write lock only to insert them;
    # the transaction picks those of the messages it accepts and sets their campaign.
    all_rows = [
        message_row(account, caller, p, options, validity=validity, status=status, now=now, due_at=due_at,
                    campaign_id=None, callback_url=callback_url)
        for p in accepted
    ]
    all_converted = bulk.driver_rows(platform.db.sql_dialect, messages_table, all_rows)
    position = {id(p): i for i, p in enumerate(accepted)}

    async def store(conn, tokens: MessagesTaken) -> Outcome:
        # one attempt, in one transaction: every name it rebinds is its own
        results, accepted_now, total = sent_results, accepted, total_price
        tokens.keep(len(accepted_now))
        if digest is not None:
            # Recorded with the messages: a repeat of an accepted body within the window is a
            # duplicate, and a refused body (nothing written) can be corrected and sent again.
            window = timedelta(seconds=platform.settings.duplicate_window_seconds)
            if not await fingerprints.remember(conn, account.id, digest, now, window):
                raise DuplicateRequest()
        references = [p.reference for p in accepted_now if p.reference]
        if references:
            taken = await messages_store.existing_references(conn, account.id, references)
            if taken:
                results = _mark_taken(results, recipients, taken)
                if not partial:
                    raise_all(results)
                accepted_now = [r for r in results if isinstance(r, Prepared)]
                tokens.keep(len(accepted_now))
                if not accepted_now:
                    return Outcome(None, [], results, account)
                total = sum(p.price for p in accepted_now)
        skipped: list[FieldError] = []
        if options.stop_list:
            # In the transaction that charges: a number stop-listed up to the commit is left out.
            listed = await stoplist.stoplisted_phones(conn, account.id, options.stop_list, [p.phone for p in accepted_now])
            if listed:
                results, skipped = _mark_stop_listed(results, recipients, listed, options.stop_list)
                accepted_now = [r for r in results if isinstance(r, Prepared)]
                tokens.keep(len(accepted_now))
                if not accepted_now:
                    if partial:
                        return Outcome(None, [], results, account)
                    raise ValidationFailed([options.everyone_stop_listed] if options.everyone_stop_listed else skipped)
                total = sum(p.price for p in accepted_now)
        if not caller.is_test and not await accounts_store.reserve(conn, account.id, total):
            raise InsufficientFunds()

        campaign_id = None
        if campaign:
            sender = accepted_now[0].sender
            campaign_id = await campaigns_store.insert_campaign(
                conn,
                {
                    "account_id": account.id,
                    "name": f"{options.channel.upper()} {sender} {now:%Y-%m-%d %H:%M:%S}",
                    "type": options.channel,
                    "source": options.source,
                    "sender": sender,
                    "text": common_text,
                    "validity": validity,
                    "tariff_code": accepted_now[0].tariff_code,
                    "status": (CampaignStatus.SCHEDULED if start_at else CampaignStatus.SENDING).value,
                    "is_test": caller.is_test,
                    "start_at": due_at,
                    "created_at": now,
                    "total_messages": len(accepted_now),
                    # the phones the request addressed: the stop-listed ones count, with no message
                    "total_phones": len(accepted_now) + len(skipped),
                    "total_price": total,
                    "currency": account.currency,
                    "callback_url": callback_url,
                    f"n_{status.value}": len(accepted_now),
                    "n_pending": len(accepted_now),
                },
            )
        picks = [position[id(p)] for p in accepted_now]
        rows = [{**all_rows[i], "campaign_id": campaign_id} for i in picks]
        ids = await messages_store.insert_messages(conn, rows, _pick_converted(all_converted, picks, campaign_id))
        written[:] = [(status.value, len(ids))]  # counted once committed (observability/metrics.py)
        if options.add_to_contact_book:
            await contacts.add_to_contact_book(conn, account.id, [p.phone for p in accepted_now], now)
        if campaign:
            saved_campaign = await campaigns_store.get_campaign(conn, account.id, campaign_id)
            return Outcome(saved_campaign, [], results, account, ids if message_ids else [], skipped)
        saved = [messages_store.message_from_values(i, row) for i, row in zip(ids, rows)]
        return Outcome(None, saved, results, account, ids if message_ids else [], skipped)

    # A reference stored by a concurrent request after this one checked is refused by the unique
    # index (PostgreSQL; SQLite's one writer cannot race): nothing of the attempt stays, and the
    # next attempt's check finds the winner's row and answers it as taken (legacy 23).
    # message tokens of the account's rate limit: taken before anything is written, given back
    # for what the transaction does not accept
    written: list[tuple[str, int]] = []  # (status, messages) of the attempt that wrote
    async with MessagesTaken(platform, account.id, len(accepted)) as tokens:
        for _ in range(REFERENCE_ATTEMPTS):
            try:
                async with platform.db.write() as conn:
                    outcome = await store(conn, tokens)
            except Exception as exc:
                if not messages_store.is_reference_conflict(exc):
                    raise
                written.clear()
            else:
                count_stored(platform.settings.metrics, written)
                return outcome
        raise ValidationFailed.one("reference_id", "The reference is already used by another message.",
                                   LegacyCode.REFERENCE_EXISTS)


def _pick_converted(converted: bulk.DriverRows | None, picks: list[int], campaign_id: int | None) -> bulk.DriverRows | None:
    """The driver rows of `picks`, with their campaign set (None on backends without driver rows)."""
    if converted is None:
        return None
    k = converted.keys.index("campaign_id")
    return bulk.DriverRows(
        converted.table, converted.keys,
        [(*row[:k], campaign_id, *row[k + 1:]) for row in (converted.params[i] for i in picks)],
    )


def message_row(
    account: Account,
    caller: Caller,
    p: Prepared,
    options: SendOptions,
    *,
    validity: int,
    status: MessageStatus,
    now: datetime,
    due_at: datetime,
    campaign_id: int | None,
    callback_url: str | None,
) -> dict:
    """The `messages` row (a dict with every column) for one prepared recipient.

    `validity` is in hours: `expires_at` is `due_at` + validity.
    """
    return {
        "account_id": account.id,
        "campaign_id": campaign_id,
        "type": options.channel,
        "source": options.source,
        "reference_id": p.reference,
        "phone": p.phone,
        "country": p.country,
        "brand": p.brand,
        "sender": p.sender,
        "text": p.text,
        "encoding": str(p.encoding),
        "parts": p.parts,
        "validity": validity,
        "tariff_code": p.tariff_code,
        "price": p.price,
        "currency": account.currency,
        "status": status.value,
        "is_test": caller.is_test,
        "created_at": now,
        "due_at": due_at,
        "expires_at": due_at + timedelta(hours=validity),
        "callback_url": callback_url,
        # every row has every key: single sends of both channels share one multi-row insert
        "rcs_options": p.rcs_options if p.rcs_options is not None else options.rcs_options,
        "alternative_sms": p.alternative_sms,
    }


async def check_single(
    platform: Platform, caller: Caller, recipient: Recipient, options: SendOptions, now: datetime, *,
    default_tariff: object = None,
) -> tuple[Account, Prepared, int, datetime | None]:
    """Check and price one message (a send or a dry run); every error at once, nothing written."""
    errors = list(options.content_errors)
    validity, start_at = DEFAULT_VALIDITY_HOURS, None
    try:
        validity, start_at = check_common(options, now, platform.settings.webhook_allow_networks)
    except ValidationFailed as exc:
        errors += exc.errors
    try:
        account, results = await price_recipients(
            platform, caller, [recipient], default_tariff=default_tariff, channel=options.channel,
            reference_required=options.reference_required, fallback=options.fallback,
        )
    except ValidationFailed as exc:  # a bad tariff: reported after the request's own errors
        raise ValidationFailed(errors + exc.errors) from None
    if errors:
        raise ValidationFailed(errors + [e for r in results if isinstance(r, list) for e in r])
    return account, raise_all(results)[0], validity, start_at


async def refuse_stop_listed(
    platform: Platform, caller: Caller, recipient: Recipient, prepared: Prepared, options: SendOptions
) -> None:
    """A dry run's stop-list check: the refusal a real send of this message would get, or nothing."""
    if not options.stop_list:
        return
    async with platform.db.read() as conn:
        if await stoplist.stoplisted_phones(conn, caller.account_id, options.stop_list, [prepared.phone]):
            raise ValidationFailed([stop_listed_error(phone_path(recipient), options.stop_list)])


async def send_single(
    platform: Platform,
    queue: SingleSendQueue,
    caller: Caller,
    recipient: Recipient,
    options: SendOptions,
    *,
    digest: str | None,
    default_tariff: object = None,
) -> Message:
    """One message without a campaign, written in the next group commit (services/single_sends.py)."""
    now = platform.clock()
    account, prepared, validity, start_at = await check_single(
        platform, caller, recipient, options, now, default_tariff=default_tariff
    )
    due_at = start_at or now
    row = message_row(
        account, caller, prepared, options, validity=validity,
        status=MessageStatus.SCHEDULED if start_at else MessageStatus.ACCEPTED, now=now, due_at=due_at,
        campaign_id=None, callback_url=options.callback_url or account.webhook_url,
    )
    path = recipient.field_paths.get("reference_id", f"{recipient.path}.reference_id" if recipient.path else "reference_id")
    async with MessagesTaken(platform, account.id, 1):  # given back if the group commit refuses it
        return await queue.submit(PendingSend(caller=caller, row=row, digest=digest, reference_path=path,
                                              stop_list=options.stop_list, phone_path=phone_path(recipient),
                                              add_to_contact_book=options.add_to_contact_book))


def phone_path(recipient: Recipient) -> str:
    """The One API field path of the recipient's phone, e.g. `phones.3.number`."""
    return recipient.field_paths.get(
        recipient.phone_field, f"{recipient.path}.{recipient.phone_field}" if recipient.path else recipient.phone_field
    )


def _mark_stop_listed(
    results: list[Prepared | list[FieldError]], recipients: list[Recipient], listed: set[int], channel: str
) -> tuple[list[Prepared | list[FieldError]], list[FieldError]]:
    marked: list[Prepared | list[FieldError]] = []
    skipped: list[FieldError] = []
    for result, recipient in zip(results, recipients):
        if isinstance(result, Prepared) and result.phone in listed:
            error = stop_listed_error(phone_path(recipient), channel)
            skipped.append(error)
            marked.append([error])
        else:
            marked.append(result)
    return marked, skipped


def _mark_taken(
    results: list[Prepared | list[FieldError]], recipients: list[Recipient], taken: set[str]
) -> list[Prepared | list[FieldError]]:
    marked: list[Prepared | list[FieldError]] = []
    for result, recipient in zip(results, recipients):
        if isinstance(result, Prepared) and result.reference in taken:
            marked.append(
                [
                    FieldError(
                        recipient.field_paths.get(
                            "reference_id", f"{recipient.path}.reference_id" if recipient.path else "reference_id"
                        ),
                        "The reference is already used by another message.",
                        LegacyCode.REFERENCE_EXISTS,
                    )
                ]
            )
        else:
            marked.append(result)
    return marked

