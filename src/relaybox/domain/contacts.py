"""The contact book's rules: contacts, custom fields, contact lists, the stop list, and search criteria.

Pure: no I/O.  The shapes and bounds follow BSG's One API spec (`StoreContact`, `ContactFieldSchema`,
`ContactGroupSchema`, `SearchOperator`, `ContactSearchField`, `ContactGroupSearchField`,
`StoplistSearchField`); where the spec is silent the choice is written in docs/contacts.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from relaybox.domain.phone import InvalidPhone, parse_phone
from relaybox.domain.rules import RuleViolation
from relaybox.domain.storable import is_storable
from relaybox.domain.timefmt import InvalidTime, format_time, parse_time

#: `ContactFieldType`: text, number, date (a date or a date and time).
FIELD_TYPES = ("text", "number", "date")
#: Stop-list types (`StoplistAddRequest.types`), as store/stoplist.py CHANNELS.
STOPLIST_TYPES = ("sms", "viber", "rcs", "whatsapp")
#: `SearchOperator`.
OPERATORS = ("like", "=", ">=", ">", "<", "<=")
ORDERING = ("=", ">=", ">", "<", "<=")
TEXTUAL = ("like", "=")

#: The spec's bounds: a contact's phone is 9 to 15 digits (`ContactPhone`, `PhoneNumber`).
MIN_CONTACT_PHONE, MAX_CONTACT_PHONE = 100_000_000, 999_999_999_999_999
LIST_NAME_LENGTH = (3, 50)  # ContactGroupName
FIELD_NAME_LENGTH = (1, 30)  # ContactFieldName
DESCRIPTION_LENGTH = (1, 255)  # ContactFieldDescription, ContactGroupDescription
#: Longest value of a custom field (relaybox's bound; the spec gives none): a placeholder's text
#: goes into a message of at most 765 characters.
MAX_VALUE_LENGTH = 255
#: Most custom fields per account (relaybox's bound).
MAX_FIELDS = 100
#: Most lists shown in a contact's `groups` (`ContactGroups.maxItems`).
MAX_CONTACT_GROUPS = 100
#: Longest number a `number` field holds, as written (digits, sign and point).
MAX_NUMBER_LENGTH = 40
#: The name of the list every account has (docs/contacts.md, "The default list").
DEFAULT_LIST_NAME = "Default list"

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ContactList:
    """A contact list (`ContactGroupSchema`): `items` contacts, `stop_list_count` of them stop-listed."""

    id: int
    name: str
    description: str | None
    is_default: bool
    created_at: datetime
    items: int = 0
    stop_list_count: int = 0


@dataclass(frozen=True, slots=True)
class ContactField:
    """A custom field (`ContactFieldSchema`)."""

    id: int
    name: str
    description: str | None
    type: str
    is_visible: bool


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact (`ContactSchema`): `fields` maps field id to value; `groups` are its lists, by id."""

    id: int
    phone: int
    created_at: datetime
    hlr_status: str
    fields: dict[int, str] = field(default_factory=dict)
    groups: list[ContactList] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StopListEntry:
    """A contact on the stop list of at least one channel (`StopListCollection`)."""

    id: int
    phone: int
    created_at: datetime  # when it was last put on a stop list (its contact's creation if never)
    sms: bool
    viber: bool
    rcs: bool
    whatsapp: bool


@dataclass(frozen=True, slots=True)
class Criterion:
    """One search criterion, checked: `field` is a name or a custom field's id (int), `value` is
    the value to compare with, in the column's terms (an int, a datetime, a normalised string)."""

    field: str | int
    operator: str
    value: object
    raw_field: str = ""
    raw_value: str = ""


def contact_phone(value: object) -> int:
    """A contact's phone as E.164 digits (domain/phone.py), within the spec's 9 to 15 digits.

    Raises RuleViolation with the reason.
    """
    try:
        number = parse_phone(value).number
    except InvalidPhone as exc:
        raise RuleViolation(f"The phone number {exc}.") from None
    if number < MIN_CONTACT_PHONE:
        raise RuleViolation("The phone number must have at least 9 digits.")
    return number


def _text(value: object, what: str, bounds: tuple[int, int]) -> str:
    if not isinstance(value, str):
        raise RuleViolation(f"The {what} must be a string.")
    low, high = bounds
    if not is_storable(value):
        raise RuleViolation(f"The {what} contains a character that cannot be stored (NUL or an unpaired UTF-16 surrogate).")
    if not low <= len(value) <= high:
        raise RuleViolation(f"The {what} must be {low} to {high} characters long.")
    return value


def check_list_name(value: object) -> str:
    """A list's name: 3 to 50 characters, not blank (RuleViolation otherwise)."""
    name = _text(value, "name", LIST_NAME_LENGTH)
    if not name.strip():
        raise RuleViolation("The name must not be blank.")
    return name


def check_field_name(value: object) -> str:
    """A custom field's name: 1 to 30 characters, no braces or control characters (a text's
    placeholder `{name}` names it), not blank."""
    name = _text(value, "name", FIELD_NAME_LENGTH)
    if not name.strip():
        raise RuleViolation("The name must not be blank.")
    if any(c in "{}" or ord(c) < 32 for c in name):
        raise RuleViolation("The name must not contain braces or control characters.")
    return name


def check_description(value: object) -> str | None:
    """A description: None, or 1 to 255 characters."""
    if value is None:
        return None
    return _text(value, "description", DESCRIPTION_LENGTH)


def check_field_type(value: object) -> str:
    """The custom field type, checked against FIELD_TYPES. Raises RuleViolation."""
    if value not in FIELD_TYPES:
        raise RuleViolation(f"The type must be one of: {', '.join(FIELD_TYPES)}.")
    return value  # type: ignore[return-value]


def field_value(kind: str, value: object) -> str | None:
    """A custom field's value as stored, for a field of type `kind`; None clears it.

    text: any string of up to 255 characters; number: a decimal number (`-12`, `3.5`), stored as
    written without surrounding blanks; date: `YYYY-MM-DD`, or a date and time (`YYYY-MM-DD
    HH:MM:SS` or ISO 8601, converted to UTC), stored as `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` so
    that stored values order as text.  An empty string clears the value too.  Raises RuleViolation.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RuleViolation("The value must be a string.")
    text = value if isinstance(value, str) else str(value)
    if not is_storable(text):
        raise RuleViolation("The value contains a character that cannot be stored (NUL or an unpaired UTF-16 surrogate).")
    if len(text) > MAX_VALUE_LENGTH:
        raise RuleViolation(f"The value must be at most {MAX_VALUE_LENGTH} characters long.")
    if text == "":
        return None
    if kind == "number":
        return _number(text)
    if kind == "date":
        return _date(text)
    return text


def _number(text: str) -> str:
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_LENGTH or not _NUMBER.match(stripped):
        raise RuleViolation("The value must be a number (digits, an optional sign and decimal point).")
    try:
        Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        raise RuleViolation("The value must be a number.") from None
    return stripped


def _date(text: str) -> str:
    stripped = text.strip()
    if _DATE_ONLY.match(stripped):
        try:
            datetime.strptime(stripped, "%Y-%m-%d")
        except ValueError:
            raise RuleViolation("The value must be a date: YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.") from None
        return stripped
    try:
        return format_time(parse_time(stripped))  # type: ignore[return-value]
    except InvalidTime:
        raise RuleViolation("The value must be a date: YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.") from None


# -- search criteria -----------------------------------------------------------------------------

#: Per searchable field of each family: the operators it takes and the kind of its value.
CONTACT_SEARCH = {"id": (ORDERING, "int"), "phone": (TEXTUAL, "phone"), "group_id": (("=",), "int"),
                  "created_at": (ORDERING, "time")}
LIST_SEARCH = {"id": (ORDERING, "int"), "name": (TEXTUAL, "text"), "description": (TEXTUAL, "text"),
               "items": (ORDERING, "int"), "created_at": (ORDERING, "time"), "phone": (TEXTUAL, "phone")}
STOPLIST_SEARCH = {"id": (ORDERING, "int"), "phone": (TEXTUAL, "phone"), "created_at": (ORDERING, "time"),
                   "type": (("=",), "type")}
#: Custom fields: per type, the operators and the kind of value (`ContactSearchField` {field_id}).
CUSTOM_SEARCH = {"text": (TEXTUAL, "text"), "number": (ORDERING, "number"), "date": (ORDERING, "date")}


class CriterionProblem(RuleViolation):
    """A search criterion refused: `part` is field | operator | value."""

    def __init__(self, part: str, message: str):
        super().__init__(message)
        self.part = part


def criterion(raw_field: object, raw_operator: object, raw_value: object, fields: dict[str, tuple],
              custom: dict[int, str] | None = None) -> Criterion:
    """Check one criterion against the searchable `fields` of a family (and, for contacts, the
    account's custom fields: id → type).  Raises CriterionProblem naming the part at fault.

    The operator defaults to `=` (and to `like` for text fields) when none is given.
    """
    if not isinstance(raw_field, str) or not raw_field:
        raise CriterionProblem("field", "The search field is required with a search value.")
    kind_of: tuple | None = fields.get(raw_field)
    key: str | int = raw_field
    if kind_of is None and custom is not None and raw_field.isdigit() and len(raw_field) <= 18:
        field_type = custom.get(int(raw_field))
        if field_type is not None:
            kind_of, key = CUSTOM_SEARCH[field_type], int(raw_field)
    if kind_of is None:
        names = ", ".join([*fields, *(["{field_id}"] if custom is not None else [])])
        raise CriterionProblem("field", f"The search field is invalid: use one of {names}"
                               + (" (the id of one of your custom fields)." if custom is not None else "."))
    operators, kind = kind_of
    operator = raw_operator if raw_operator not in (None, "") else operators[0] if "like" not in operators else "like"
    if operator not in OPERATORS:
        raise CriterionProblem("operator", f"The search operator is invalid: use one of {', '.join(OPERATORS)}.")
    if operator not in operators:
        raise CriterionProblem("operator", f"The {raw_field} field is searched with: {', '.join(operators)}.")
    if not isinstance(raw_value, str):
        raise CriterionProblem("value", "The search value is required.")
    return Criterion(key, operator, _search_value(kind, operator, raw_value), raw_field, raw_value)


def _search_value(kind: str, operator: str, raw: str) -> object:
    if len(raw) > MAX_VALUE_LENGTH:
        raise CriterionProblem("value", f"The search value must be at most {MAX_VALUE_LENGTH} characters long.")
    text = raw.strip()
    if kind == "int":
        if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 18:
            raise CriterionProblem("value", "The search value must be an integer.")
        return int(text)
    if kind == "phone":
        digits = text.lstrip("+")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 20:
            raise CriterionProblem("value", "The search value must be digits of a phone number.")
        if operator == "like":
            return digits
        try:
            return contact_phone(digits)
        except RuleViolation as exc:
            raise CriterionProblem("value", str(exc)) from None
    if kind == "time":
        try:
            return parse_time(text)
        except InvalidTime as exc:
            raise CriterionProblem("value", f"The search value {exc}.") from None
    if kind == "type":
        if text not in STOPLIST_TYPES:
            raise CriterionProblem("value", f"The search value must be one of: {', '.join(STOPLIST_TYPES)}.")
        return text
    if kind == "number":
        try:
            return Decimal(_number(text))
        except RuleViolation as exc:
            raise CriterionProblem("value", str(exc)) from None
    if kind == "date":
        try:
            return _date(text)
        except RuleViolation as exc:
            raise CriterionProblem("value", str(exc)) from None
    if not is_storable(raw):
        raise CriterionProblem("value", "The search value contains a character that cannot be stored.")
    return raw  # text: as given


def like_pattern(value: str) -> str:
    """`value` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\\` taken literally (ESCAPE '\\')."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
