"""Sends to contact lists (`/api/campaigns/sms/send-groups`, `/api/campaigns/rcs/send-groups`) and
their price (`/api/campaigns/price` with `groups`).

One campaign goes to the union of the lists' contacts, each phone once.  The text is a template
(domain/templates.py): each `{field}` is replaced by the contact's value of that custom field, so
every message is checked, split into segments and priced on its own text, and the campaign is
stored as an individual-text campaign.  The rules are in docs/sending-to-lists.md:

- a list id that is not one of the account's lists (unknown, or another account's: the same
  answer, so nothing is revealed) is a 422 at `groups.<i>`; so is a list named twice;
- a placeholder naming no custom field of the account is a 422 at the text's path;
- lists with no contacts are a 422 at `groups`; so are lists whose every contact is stop-listed;
- a personalised text that breaks a rule (too long) is a 422 at `contacts.<phone>.text`.

Nothing is written or charged when any of these is refused.  There is no 10,000-recipient limit:
that bounds the phones one request carries, not the contacts of the lists it names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from relaybox.domain.models import Caller
from relaybox.domain.rcs import check_agent
from relaybox.domain.rules import RuleViolation
from relaybox.domain.templates import Template, TemplateError, parse_template
from relaybox.errors import FieldError, LegacyCode, ValidationFailed
from relaybox.services import sending
from relaybox.services.platform import Platform
from relaybox.services.recipients import Recipient
from relaybox.store import list_recipients, stoplist
from relaybox.store.list_recipients import ListContact


def parse_texts(texts: dict[str, object]) -> dict[str, Template]:
    """Parse each `{path: text}` that is a string; every bad one is a 422 at its path, all at once.
    Non-strings are left to the rules that check the text itself."""
    parsed: dict[str, Template] = {}
    errors: list[FieldError] = []
    for path, text in texts.items():
        if not isinstance(text, str):
            continue
        try:
            parsed[path] = parse_template(text)
        except TemplateError as exc:
            errors.append(FieldError(path, str(exc), LegacyCode.INVALID_TEXT))
    if errors:
        raise ValidationFailed(errors)
    return parsed


def _check_group_ids(group_ids: list[int]) -> None:
    seen: set[int] = set()
    errors = []
    for i, gid in enumerate(group_ids):
        if gid in seen:
            errors.append(FieldError(f"groups.{i}", "The contact list is given twice.", LegacyCode.INVALID_PARAMETERS))
        seen.add(gid)
    if errors:
        raise ValidationFailed(errors)


async def load_contacts(
    platform: Platform, caller: Caller, group_ids: list[int], templates: dict[str, Template]
) -> list[ListContact]:
    """The union of the lists' contacts with the values their texts need, after checking that every
    list is the account's and every placeholder is one of its fields (422s with paths otherwise).
    An empty union is returned as is: what that means is the caller's to say."""
    _check_group_ids(group_ids)
    names = set().union(*(t.fields for t in templates.values())) if templates else set()
    async with platform.db.read() as conn:
        own = await list_recipients.own_groups(conn, caller.account_id, group_ids)
        fields = await list_recipients.field_ids(conn, caller.account_id, names)
        errors = [
            FieldError(f"groups.{i}", f"The contact list {gid} does not exist.", LegacyCode.INVALID_PARAMETERS)
            for i, gid in enumerate(group_ids) if gid not in own
        ]
        for path, template in templates.items():
            errors += [
                FieldError(path, f"The placeholder {{{name}}} names no contact field: create the field, or write "
                                 "{{ and }} for literal braces.", LegacyCode.INVALID_TEXT)
                for name in sorted(template.fields - set(fields))
            ]
        if errors:
            raise ValidationFailed(errors)
        return await list_recipients.list_contacts(conn, caller.account_id, sorted(own), fields)


NO_CONTACTS = FieldError("groups", "The contact lists have no contacts.", LegacyCode.INVALID_PARAMETERS)


def everyone_stop_listed(channel: str) -> FieldError:
    """The `groups` error when every contact of the lists is on the channel's stop list (legacy 33)."""
    return FieldError("groups", f"Every contact of the lists is on the {channel.upper()} stop list: nothing to send.",
                      LegacyCode.STOP_LISTED)


def contact_path(contact: ListContact) -> str:
    """Where a contact's problems are reported: `contacts.<phone>` (its phone is unique per account)."""
    return f"contacts.{contact.phone}"


async def send_sms(
    platform: Platform,
    caller: Caller,
    *,
    group_ids: list[int],
    sender: object,
    text: object,
    transliterate: bool,
    options: sending.SendOptions,
    default_tariff: object,
    digest: str | None,
) -> sending.Outcome:
    """Accept an SMS campaign to the lists' contacts (see the module's rules)."""
    templates = parse_texts({"text": text})
    sending.check_content(sender=sender)  # once, not once per contact
    contacts = await load_contacts(platform, caller, group_ids, templates)
    if not contacts:
        raise ValidationFailed([NO_CONTACTS])
    template = templates.get("text")
    render = (lambda c: text) if template is None else (lambda c: template.render(c.values))
    recipients = [
        Recipient(path=contact_path(c), phone=c.phone, phone_field="phone", stored=True, text=render(c), sender=sender,
                  transliterate=transliterate, field_paths=_SHARED_PATHS)
        for c in contacts
    ]
    options = dataclasses.replace(
        options, everyone_stop_listed=everyone_stop_listed(options.stop_list) if options.stop_list else None
    )
    return await sending.send(platform, caller, recipients, options, default_tariff=default_tariff, digest=digest)


#: Fields every message shares are reported at the request's own path, not the contact's.
_SHARED_PATHS = {"sender": "sender", "tariff_code": "tariff_code"}


async def send_rcs(
    platform: Platform,
    caller: Caller,
    *,
    group_ids: list[int],
    sender: object,
    content: object,
    fallback: object,
    make_options: Callable[[object, object], tuple[sending.SendOptions, str]],
    default_tariff: object,
    digest: str | None,
) -> sending.Outcome:
    """Accept an RCS campaign to the lists' contacts.

    Placeholders are replaced in the RCS content's `options.text` and its cards' `title` and
    `text`, and in the SMS fallback's text.  `make_options(content, fallback_text)` checks one
    contact's content and fallback (services/rcs.py) and returns its send options and summary
    text; contacts with the same personalised content share one check.
    """
    try:
        check_agent(sender)  # once, not once per contact
    except RuleViolation as exc:
        raise ValidationFailed.one("sender", str(exc), LegacyCode.INVALID_ORIGINATOR) from None
    texts = _rcs_texts(content, fallback)
    templates = parse_texts(texts)
    contacts = await load_contacts(platform, caller, group_ids, templates)
    per_contact = {p: t for p, t in templates.items() if not t.is_constant}
    base_options, base_text = make_options(content, _fallback_text(fallback))
    # Problems of the shared parts are reported once; those of personalised strings per contact.
    shared_errors = [e for e in base_options.content_errors if e.path not in per_contact]
    if shared_errors:
        raise ValidationFailed(shared_errors)
    if not contacts:
        raise ValidationFailed([NO_CONTACTS])
    if not per_contact:
        recipients = [
            Recipient(path=contact_path(c), phone=c.phone, phone_field="phone", stored=True, text=base_text, sender=sender,
                      field_paths=_SHARED_PATHS)
            for c in contacts
        ]
        options = base_options
    else:
        recipients = []
        cache: dict[tuple, tuple[sending.SendOptions, str]] = {}
        errors: list[FieldError] = []
        for c in contacts:
            rendered = {p: t.render(c.values) for p, t in per_contact.items()}
            key = tuple(sorted(rendered.items()))
            if key not in cache:
                cache[key] = make_options(_with_texts(content, rendered), rendered.get("alternative_channel.sms.text",
                                                                                       _fallback_text(fallback)))
            opts, summary = cache[key]
            errors += [dataclasses.replace(e, path=f"{contact_path(c)}.{e.path}") for e in opts.content_errors]
            recipients.append(Recipient(path=contact_path(c), phone=c.phone, phone_field="phone", stored=True, text=summary,
                                        sender=sender, field_paths=_SHARED_PATHS, rcs_options=opts.rcs_options,
                                        fallback=opts.fallback))
        if errors:
            raise ValidationFailed(errors)
        options = base_options
    options = dataclasses.replace(
        options, everyone_stop_listed=everyone_stop_listed(options.stop_list) if options.stop_list else None
    )
    return await sending.send(platform, caller, recipients, options, default_tariff=default_tariff, digest=digest)


def _fallback_text(fallback: object) -> object:
    return getattr(fallback, "text", None)


def _rcs_texts(content: object, fallback: object) -> dict[str, object]:
    """The templated strings of an RCS request, by path."""
    texts: dict[str, object] = {}
    if isinstance(content, dict):
        if "text" in content:
            texts["options.text"] = content["text"]
        cards = content.get("cards")
        if isinstance(cards, list):
            for i, card in enumerate(cards):
                if isinstance(card, dict):
                    for key in ("title", "text"):
                        if key in card:
                            texts[f"options.cards.{i}.{key}"] = card[key]
    if fallback is not None:
        texts["alternative_channel.sms.text"] = _fallback_text(fallback)
    return texts


def _with_texts(content: object, rendered: dict[str, str]) -> object:
    """`content` with the personalised strings of `rendered` ({path: text}) put in place."""
    if not isinstance(content, dict):
        return content
    out = dict(content)
    if "options.text" in rendered:
        out["text"] = rendered["options.text"]
    if isinstance(content.get("cards"), list):
        cards = []
        for i, card in enumerate(content["cards"]):
            if isinstance(card, dict):
                card = dict(card)
                for key in ("title", "text"):
                    if f"options.cards.{i}.{key}" in rendered:
                        card[key] = rendered[f"options.cards.{i}.{key}"]
            cards.append(card)
        out["cards"] = cards
    return out


async def price_sms(
    platform: Platform, caller: Caller, *, group_ids: list[int], text: object, sender: object,
    default_tariff: object, skip_phones: set[int],
) -> int:
    """The price (units) of an SMS send to the lists' contacts, as send-groups would charge it:
    personalised texts, stop-listed contacts left out.  `skip_phones` are priced elsewhere."""
    templates = parse_texts({"text": text})
    contacts = await load_contacts(platform, caller, group_ids, templates)
    template = templates.get("text")
    recipients = [
        Recipient(path=contact_path(c), phone=c.phone, phone_field="phone", stored=True,
                  text=text if template is None else template.render(c.values), sender=sender,
                  field_paths=_SHARED_PATHS)
        for c in contacts if c.phone not in skip_phones
    ]
    if not recipients:
        return 0
    async with platform.db.read() as conn:
        listed = await stoplist.stoplisted_phones(conn, caller.account_id, "sms", [r.phone for r in recipients])
    recipients = [r for r in recipients if r.phone not in listed]
    _, results = await sending.price_recipients(platform, caller, recipients, default_tariff=default_tariff)
    return sum(p.price for p in sending.raise_all(results))
