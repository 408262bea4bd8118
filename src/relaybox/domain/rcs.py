"""RCS content rules: text, rich cards, media and suggestion buttons; the SMS fallback.

Pure: `check_options` takes a request's `options` object (or the `rcs` object of
`POST /api/messages/send`, which carries the same fields) as decoded JSON and
returns the content normalised for storage together with every problem found,
each with its field path, so that one refused request lists all its errors.

Limits follow BSG's spec.  Where its prose and its schema disagree (cards: "the
maximum number of cards is 5" but `maxItems: 10`; buttons: "only up to 2
buttons can be added to a card" but `maxItems: 4`) the prose wins: it is what
BSG's platform enforces, and a limit relaxed here would let an integration
pass against relaybox that BSG refuses (docs/compatibility.md, "RCS").
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from relaybox.domain.phone import InvalidPhone, parse_phone
from relaybox.domain.rules import RuleViolation, check_sender, check_validity, prepare_text
from relaybox.domain.status import MessageStatus

MAX_TEXT = 160  # a text message, in UTF-16 units (the spec counts emoji by code units)
MAX_CARDS = 5
MAX_CARD_TEXT = 1000
MAX_TITLE = 200
MAX_SUGGESTIONS = 2  # per card
MAX_BUTTON_TEXT = 25
MAX_POSTBACK = 25
MAX_URL = 1000
MAX_AGENT = 40
SUGGESTION_KINDS = ("link", "call")

#: What an RCS message is stored as in `messages.encoding`: it is not split into SMS parts.
RCS_ENCODING = "utf8"

#: Final RCS statuses after which the SMS alternative channel is used, when the request
#: gave one: the recipient has no RCS, or the RCS message could not be delivered or
#: expired (BSG: "via an alternative SMS channel if the rcs can't be delivered";
#: "after this period expires, the message ... will be redirected to the SMS channel").
#: Not `failed` (refused before reaching an operator, or never sent because its
#: campaign was stopped) and not `unknown` (it may have arrived).
FALLBACK_AFTER: frozenset[MessageStatus] = frozenset(
    {MessageStatus.NOT_SERVICE_USER, MessageStatus.UNDELIVERED, MessageStatus.EXPIRED}
)

Problem = tuple[str, str]  # (field path, what is wrong)


def fallback_due(new: MessageStatus) -> bool:
    """Whether an RCS message that has just reached `new` goes out by its SMS fallback."""
    return new in FALLBACK_AFTER


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (an astral character counts 2), the unit of the RCS text limits."""
    return len(text.encode("utf-16-le")) // 2


def is_web_url(value: object) -> bool:
    """An absolute http(s) URL of at most MAX_URL characters, without spaces."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def check_agent(sender: object) -> str:
    """The RCS agent name (`sender`): 1-40 printable characters."""
    if not isinstance(sender, str) or not 1 <= len(sender) <= MAX_AGENT or not sender.isprintable() or not sender.strip():
        raise RuleViolation(f"The sender (RCS agent) must be 1-{MAX_AGENT} printable characters.")
    return sender


def _text(value: object, path: str, limit: int, what: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str) or value == "" or utf16_len(value) > limit:
        problems.append((path, f"The {what} must be a string of 1-{limit} characters."))
        return None
    return value


def _phone(value: object) -> str | None:
    """A call button's number in its E.164 form (domain/phone.py): the digits, or None when it is not a
    possible number (a JSON integer, or a string with an optional `+`)."""
    try:
        return parse_phone(value).msisdn
    except InvalidPhone:
        return None


def _suggestion(raw: object, path: str, problems: list[Problem]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append((path, "A suggestion must be an object."))
        return None
    kind = raw.get("type")
    if kind is None:
        # BSG's own examples omit `type`; the button's target says which kind it is.
        has_url, has_phone = raw.get("url") is not None, raw.get("phone") is not None
        if has_url == has_phone:
            problems.append((f"{path}.type", "The type is required: link (with url) or call (with phone)."))
            return None
        kind = "link" if has_url else "call"
    elif kind not in SUGGESTION_KINDS:
        problems.append((f"{path}.type", "Unknown suggestion type: use link or call."))
        return None
    before = len(problems)
    out: dict = {"type": kind, "text": _text(raw.get("text"), f"{path}.text", MAX_BUTTON_TEXT, "button text", problems)}
    if kind == "link":
        if not is_web_url(raw.get("url")):
            problems.append((f"{path}.url", f"The url must be an http or https link of at most {MAX_URL} characters."))
        out["url"] = raw.get("url")
    else:
        phone = _phone(raw.get("phone"))
        if phone is None:
            problems.append((f"{path}.phone", "The phone must be a possible international number (E.164 digits)."))
        out["phone"] = phone
    postback = raw.get("postback_data")
    if postback is not None:
        out["postback_data"] = _text(postback, f"{path}.postback_data", MAX_POSTBACK, "postback_data", problems)
    return out if len(problems) == before else None


def _card(raw: object, path: str, problems: list[Problem]) -> dict | None:
    if not isinstance(raw, dict):
        problems.append((path, "A card must be an object."))
        return None
    before = len(problems)
    card: dict = {}
    if raw.get("title") is not None:
        card["title"] = _text(raw["title"], f"{path}.title", MAX_TITLE, "title", problems)
    if raw.get("text") is not None:
        card["text"] = _text(raw["text"], f"{path}.text", MAX_CARD_TEXT, "card text", problems)
    media = raw.get("media")
    if media is not None:
        if not isinstance(media, dict):
            problems.append((f"{path}.media", "The media must be an object with a url."))
        elif not is_web_url(media.get("url")):
            problems.append(
                (f"{path}.media.url", f"The media url must be an http or https link of at most {MAX_URL} characters.")
            )
        else:
            card["media"] = {"url": media["url"]}
    if raw.get("text") is None and media is None:
        problems.append((path, "A card needs a text or a media."))
    suggestions = raw.get("suggestions")
    if suggestions is not None:
        if not isinstance(suggestions, list):
            problems.append((f"{path}.suggestions", "The suggestions must be a list."))
        elif len(suggestions) > MAX_SUGGESTIONS:
            problems.append((f"{path}.suggestions", f"A card has at most {MAX_SUGGESTIONS} suggestions."))
        elif suggestions:
            card["suggestions"] = [
                _suggestion(s, f"{path}.suggestions.{i}", problems) for i, s in enumerate(suggestions)
            ]
    return card if len(problems) == before else None


def check_options(raw: object, path: str = "options") -> tuple[dict | None, list[Problem]]:
    """Check RCS content; return it normalised (`{"text"?, "cards"?}`) and the problems found.

    Both `text` and `cards` may be given: the official client's model of the
    `rcs` object of /api/messages/send requires both.  Suggestions are stored
    with their `type`, which the client needs to read them back.
    """
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        return None, [(path, "The options must be an object with text or cards.")]
    text, cards = raw.get("text"), raw.get("cards")
    if text is None and cards is None:
        return None, [(path, "Either text or cards is required.")]
    content: dict = {}
    if text is not None:
        content["text"] = _text(text, f"{path}.text", MAX_TEXT, "text", problems)
    if cards is not None:
        if not isinstance(cards, list) or not cards:
            problems.append((f"{path}.cards", "The cards must be a list of at least one card."))
        elif len(cards) > MAX_CARDS:
            problems.append((f"{path}.cards", f"At most {MAX_CARDS} cards can be sent in one message."))
        else:
            content["cards"] = [_card(c, f"{path}.cards.{i}", problems) for i, c in enumerate(cards)]
    return (None if problems else content), problems


def summary_text(content: dict) -> str:
    """The message's `text` as lists show it: its text, else its first card's text or title."""
    if content.get("text"):
        return content["text"]
    for card in content.get("cards", ()):
        if card.get("text") or card.get("title"):
            return card.get("text") or card["title"]
    return ""


def first_suggestion(content: dict | None) -> dict | None:
    """The first suggestion button of a message, if it has one (the simulator clicks it)."""
    for card in (content or {}).get("cards", ()):
        for suggestion in card.get("suggestions", ()):
            return suggestion
    return None


@dataclass(frozen=True, slots=True)
class SmsFallback:
    """The SMS to send instead when the RCS message cannot be delivered (checked, not yet priced)."""

    text: str
    sender: str
    encoding: str
    parts: int
    validity: int
    #: Whether the fallback is left unsent when the phone is on the SMS stop list at the time
    #: it would be created (store/fallbacks.py); rows stored without the key are checked.
    check_stop_list: bool = True

    def priced(self, tariff_code: int, rate: int) -> dict:
        """What an RCS message stores about its fallback (`messages.alternative_sms`)."""
        return {
            "text": self.text,
            "sender": self.sender,
            "encoding": self.encoding,
            "parts": self.parts,
            "validity": self.validity,
            "tariff_code": tariff_code,
            "price": self.parts * rate,
            "check_stop_list": self.check_stop_list,
        }


def check_sms_fallback(
    text: object, sender: object, validity: object, path: str, *, transliterate: bool = False
) -> tuple[SmsFallback | None, list[Problem]]:
    """Check the alternative SMS by the SMS rules (sender, text limits, validity)."""
    problems: list[Problem] = []
    checked_sender = checked_validity = prepared = None
    try:
        checked_sender = check_sender(sender)
    except RuleViolation as exc:
        problems.append((f"{path}.sender", str(exc)))
    try:
        prepared = prepare_text(text, transliterate)
    except RuleViolation as exc:
        problems.append((f"{path}.text", str(exc)))
    try:
        checked_validity = check_validity(validity)
    except RuleViolation as exc:
        problems.append((f"{path}.validity", str(exc)))
    if problems:
        return None, problems
    sms_text, info = prepared
    return SmsFallback(sms_text, checked_sender, info.encoding.value, info.parts, checked_validity), []
