"""The contact book: contacts, custom fields, contact lists and the stop list (One API `/api/contacts*`,
`/api/groups*`, `/api/stoplist*`), and the `add_to_contact_book` of the send paths.

Rules live in domain/contacts.py, SQL in store/contacts.py and store/stoplist.py; here each use
case checks its input (every problem at once, each with its field path), then writes in one
transaction, so a refused request writes nothing.  Ids of another account are answered exactly as
ids that do not exist: 404 for an id in the path, 422 naming the field for an id in a body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain import contacts as rules
from relaybox.domain.contacts import (
    CONTACT_SEARCH,
    DEFAULT_LIST_NAME,
    LIST_SEARCH,
    MAX_FIELDS,
    STOPLIST_SEARCH,
    Contact,
    ContactField,
    ContactList,
    Criterion,
    CriterionProblem,
    StopListEntry,
)
from relaybox.domain.rules import RuleViolation
from relaybox.errors import FieldError, NotFound, ValidationFailed
from relaybox.services.platform import Platform
from relaybox.store import contacts as store
from relaybox.store import stoplist as stoplist_store


class Refused(ValidationFailed):
    """A 422 whose message is the spec's own (e.g. "Contact group is already exists"), with the field path."""

    def __init__(self, message: str, path: str, detail: str):
        super().__init__([FieldError(path, detail)])
        self.message = message


LIST_EXISTS = "Contact group is already exists"
PHONE_EXISTS = "Phone number is already exist in contact book"


@dataclass(frozen=True, slots=True)
class RawCriterion:
    """A search criterion as given: `path` is where it came from (`search`, `search_fields.0`)."""

    path: str
    field: str | None
    operator: str | None
    value: str | None


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))

    def check(self, path: str, rule, *args):
        try:
            return rule(*args)
        except RuleViolation as exc:
            self.add(path, str(exc))
            return None

    def raise_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


def _missing_ids(errors: _Errors, path: str, ids: Sequence[int], found: set[int], what: str) -> None:
    for i, value in enumerate(ids):
        if value not in found:
            errors.add(f"{path}.{i}", f"The {what} {value} does not exist.")


# -- the default list ----------------------------------------------------------------------------


async def ensure_default_list(platform: Platform, account_id: int) -> None:
    """Make the account's default list if it has none (docs/contacts.md, "The default list"):
    one indexed read when it exists, which is every time but the first."""
    async with platform.db.read() as conn:
        if await store.default_list_id(conn, account_id) is not None:
            return
    async with platform.db.write() as conn:
        await store.ensure_default_list(conn, account_id, DEFAULT_LIST_NAME, platform.clock())


# -- lists ---------------------------------------------------------------------------------------


async def get_list(platform: Platform, account_id: int, list_id: int) -> ContactList:
    """One of the account's contact lists. Raises NotFound."""
    async with platform.db.read() as conn:
        found = (await store.get_lists(conn, account_id, [list_id])).get(list_id)
    if found is None:
        raise NotFound()
    return found


async def find_lists(platform: Platform, account_id: int, *, raw: Sequence[RawCriterion] = (), sort: str = "id",
                     descending: bool = False, offset: int = 0, limit: int = 50,
                     ) -> tuple[int, list[ContactList], list[Criterion]]:
    """(total, page, the checked criteria) of the account's lists, its default list made first if
    it has none; ValidationFailed for a bad criterion."""
    criteria = check_criteria(raw, LIST_SEARCH)
    await ensure_default_list(platform, account_id)
    async with platform.db.read() as conn:
        total, found = await store.find_lists(conn, account_id, criteria, sort=sort, descending=descending,
                                              offset=offset, limit=limit)
    return total, found, criteria


def _list_values(errors: _Errors, name: object, description: object, default: object) -> dict:
    values = {"name": errors.check("name", rules.check_list_name, name),
              "description": errors.check("description", rules.check_description, description)}
    if default is not None:
        values["is_default"] = bool(default)
    return values


async def create_list(platform: Platform, account_id: int, *, name: object, description: object = None,
                      default: object = None) -> ContactList:
    """A new list; `default: true` makes it the account's default list instead of the current one."""
    errors = _Errors()
    values = _list_values(errors, name, description, default)
    errors.raise_any()
    await ensure_default_list(platform, account_id)
    async with platform.db.write() as conn:
        if await store.list_name_taken(conn, account_id, values["name"]):
            raise Refused(LIST_EXISTS, "name", "A list with this name already exists.")
        list_id = await store.insert_list(conn, account_id, values["name"], values["description"],
                                          values.get("is_default", False), platform.clock())
        return (await store.get_lists(conn, account_id, [list_id]))[list_id]


async def update_list(platform: Platform, account_id: int, list_id: int, *, name: object, description: object = None,
                      default: object = None, description_given: bool = True) -> ContactList:
    """Rename a contact list, set its description and whether it is the default; returns it updated.

    Raises ValidationFailed for bad values or for unsetting the only default list, Refused (LIST_EXISTS) for a
    name another list has, NotFound for an unknown list. `description_given=False` leaves the description as is.
    """
    errors = _Errors()
    values = _list_values(errors, name, description, default)
    if not description_given:
        values.pop("description")
    errors.raise_any()
    async with platform.db.write() as conn:
        current = (await store.get_lists(conn, account_id, [list_id])).get(list_id)
        if current is None:
            raise NotFound()
        if current.is_default and values.get("is_default") is False:
            raise ValidationFailed.one("default", "An account always has a default list: make another list the "
                                                  "default instead.")
        if await store.list_name_taken(conn, account_id, values["name"], other_than=list_id):
            raise Refused(LIST_EXISTS, "name", "A list with this name already exists.")
        await store.update_list(conn, account_id, list_id, values)
        return (await store.get_lists(conn, account_id, [list_id]))[list_id]


async def delete_list(platform: Platform, account_id: int, list_id: int) -> None:
    """Delete a list; its contacts stay in the book.  The default list cannot be deleted (make
    another list the default first)."""
    async with platform.db.write() as conn:
        current = (await store.get_lists(conn, account_id, [list_id])).get(list_id)
        if current is None:
            raise NotFound()
        if current.is_default:
            raise ValidationFailed.one("id", "The default list cannot be deleted: make another list the default first.")
        await store.delete_list(conn, account_id, list_id)


async def attach(platform: Platform, account_id: int, contact_ids: Sequence[int], list_ids: Sequence[int]) -> None:
    """Put every contact in every list, in one transaction; unknown ids refuse the whole request."""
    async with platform.db.write() as conn:
        await _check_members(conn, account_id, contact_ids, list_ids)
        await store.attach(conn, contact_ids, list_ids, platform.clock())


async def detach(platform: Platform, account_id: int, contact_ids: Sequence[int], list_ids: Sequence[int]) -> None:
    """Take the contacts out of the lists. Raises ValidationFailed naming unknown contacts or lists."""
    async with platform.db.write() as conn:
        await _check_members(conn, account_id, contact_ids, list_ids)
        await store.detach(conn, contact_ids, list_ids)


async def _check_members(conn: AsyncConnection, account_id: int, contact_ids: Sequence[int],
                         list_ids: Sequence[int]) -> None:
    errors = _Errors()
    _missing_ids(errors, "contacts", contact_ids, await store.existing_contact_ids(conn, account_id, contact_ids),
                 "contact")
    _missing_ids(errors, "groups", list_ids, await store.existing_list_ids(conn, account_id, list_ids), "list")
    errors.raise_any()


# -- custom fields -------------------------------------------------------------------------------


async def list_fields(platform: Platform, account_id: int) -> list[ContactField]:
    """The account's custom contact fields."""
    async with platform.db.read() as conn:
        return await store.list_fields(conn, account_id)


async def create_field(platform: Platform, account_id: int, *, name: object, kind: object, description: object = None,
                       is_visible: bool = True) -> ContactField:
    """Create a custom contact field; returns it.

    Raises ValidationFailed for a bad name, type or description, a name already taken, or more than MAX_FIELDS fields.
    """
    errors = _Errors()
    name = errors.check("name", rules.check_field_name, name)
    kind = errors.check("type", rules.check_field_type, kind)
    description = errors.check("description", rules.check_description, description)
    errors.raise_any()
    async with platform.db.write() as conn:
        if await store.field_name_taken(conn, account_id, name):
            raise ValidationFailed.one("name", "A field with this name already exists.")
        if await store.count_fields(conn, account_id) >= MAX_FIELDS:
            raise ValidationFailed.one("name", f"An account may have at most {MAX_FIELDS} custom fields.")
        field_id = await store.insert_field(conn, account_id, name, description, kind, is_visible, platform.clock())
        return await store.get_field(conn, account_id, field_id)  # type: ignore[return-value]


async def update_field(platform: Platform, account_id: int, field_id: int, changes: dict) -> ContactField:
    """Change a field's name, description or visibility (its type stays: values were checked by it)."""
    errors = _Errors()
    values: dict = {}
    if "name" in changes:
        values["name"] = errors.check("name", rules.check_field_name, changes["name"])
    if "description" in changes:
        values["description"] = errors.check("description", rules.check_description, changes["description"])
    if "is_visible" in changes:
        if not isinstance(changes["is_visible"], bool):
            errors.add("is_visible", "The is_visible field must be true or false.")
        values["is_visible"] = changes["is_visible"]
    errors.raise_any()
    async with platform.db.write() as conn:
        if await store.get_field(conn, account_id, field_id) is None:
            raise NotFound()
        if "name" in values and await store.field_name_taken(conn, account_id, values["name"], other_than=field_id):
            raise ValidationFailed.one("name", "A field with this name already exists.")
        if values:
            await store.update_field(conn, account_id, field_id, values)
        return await store.get_field(conn, account_id, field_id)  # type: ignore[return-value]


async def delete_fields(platform: Platform, account_id: int, ids: Sequence[int]) -> None:
    """Delete fields and every contact's value of them; an unknown id refuses the whole request."""
    async with platform.db.write() as conn:
        mine = {f.id for f in await store.list_fields(conn, account_id)}
        errors = _Errors()
        _missing_ids(errors, "ids", ids, mine, "field")
        errors.raise_any()
        await store.delete_fields(conn, account_id, list(dict.fromkeys(ids)))


# -- contacts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldInput:
    """A `{id, value}` pair of a request: `path` is where it was (`fields.0`)."""

    path: str
    id: object
    value: object


def _values(errors: _Errors, given: Sequence[FieldInput], types: dict[int, str]) -> dict[int, str | None]:
    values: dict[int, str | None] = {}
    seen: set[int] = set()
    for item in given:
        if isinstance(item.id, bool) or not isinstance(item.id, int) or item.id not in types:
            errors.add(f"{item.path}.id", f"The field {item.id} does not exist.")
            continue
        if item.id in seen:
            errors.add(f"{item.path}.id", f"The field {item.id} is given twice.")
            continue
        seen.add(item.id)
        try:
            values[item.id] = rules.field_value(types[item.id], item.value)
        except RuleViolation as exc:
            errors.add(f"{item.path}.value", str(exc))
    return values


async def _check_contact(conn: AsyncConnection, account_id: int, phone: object, fields: Sequence[FieldInput],
                         groups: Sequence[int], errors: _Errors) -> tuple[int | None, dict[int, str | None]]:
    number = errors.check("phone", rules.contact_phone, phone)
    types = {f.id: f.type for f in await store.list_fields(conn, account_id)}
    values = _values(errors, fields, types)
    _missing_ids(errors, "groups", groups, await store.existing_list_ids(conn, account_id, groups), "list")
    errors.raise_any()
    return number, values


async def create_contact(platform: Platform, account_id: int, *, phone: object, fields: Sequence[FieldInput] = (),
                         groups: Sequence[int] = ()) -> Contact:
    """Add a contact (E.164 phone, unique in the book) with field values, in the given lists."""
    now = platform.clock()
    async with platform.db.write() as conn:
        number, values = await _check_contact(conn, account_id, phone, fields, groups, _Errors())
        if await store.contact_id_by_phone(conn, account_id, number) is not None:
            raise Refused(PHONE_EXISTS, "phone", "A contact with this phone number already exists.")
        contact_id = await store.insert_contact(conn, account_id, number, now)
        await store.set_values(conn, contact_id, values)
        await store.attach(conn, [contact_id], groups, now)
        return (await store.get_contacts(conn, account_id, [contact_id]))[0]


async def update_contact(platform: Platform, account_id: int, contact_id: int, *, phone: object,
                         fields: Sequence[FieldInput] = (), groups: Sequence[int] = ()) -> Contact:
    """Change a contact's phone, set the given field values (an empty value removes one; fields not
    given keep theirs) and add it to the given lists (it stays in the others)."""
    now = platform.clock()
    async with platform.db.write() as conn:
        if not await store.existing_contact_ids(conn, account_id, [contact_id]):
            raise NotFound()
        number, values = await _check_contact(conn, account_id, phone, fields, groups, _Errors())
        holder = await store.contact_id_by_phone(conn, account_id, number)
        if holder is not None and holder != contact_id:
            raise Refused(PHONE_EXISTS, "phone", "Another contact has this phone number.")
        await store.update_contact_phone(conn, account_id, contact_id, number, now)
        await store.set_values(conn, contact_id, values)
        await store.attach(conn, [contact_id], groups, now)
        return (await store.get_contacts(conn, account_id, [contact_id]))[0]


async def get_contact(platform: Platform, account_id: int, contact_id: int) -> Contact:
    """One of the account's contacts. Raises NotFound."""
    async with platform.db.read() as conn:
        found = await store.get_contacts(conn, account_id, [contact_id])
    if not found:
        raise NotFound()
    return found[0]


async def delete_contact(platform: Platform, account_id: int, contact_id: int) -> None:
    """Delete one of the account's contacts. Raises NotFound."""
    async with platform.db.write() as conn:
        if not await store.delete_contacts(conn, account_id, [contact_id]):
            raise NotFound()


async def delete_contacts(platform: Platform, account_id: int, contact_ids: Sequence[int],
                          list_ids: Sequence[int]) -> int:
    """Delete contacts by id, and the contacts of whole lists (the lists stay, emptied)."""
    async with platform.db.write() as conn:
        errors = _Errors()
        _missing_ids(errors, "contact_ids", contact_ids,
                     await store.existing_contact_ids(conn, account_id, contact_ids), "contact")
        _missing_ids(errors, "group_ids", list_ids, await store.existing_list_ids(conn, account_id, list_ids), "list")
        errors.raise_any()
        return await store.delete_contacts(conn, account_id, contact_ids, list_ids)


async def find_contacts(
    platform: Platform, account_id: int, *, list_ids: Sequence[int] = (), raw: Sequence[RawCriterion] = (),
    sort: str = "id", descending: bool = False, offset: int = 0, limit: int = 50, list_path: str = "groups",
) -> tuple[int, list[Contact], list[Criterion]]:
    """(total, page, the checked criteria) of the account's contacts in any of `list_ids` (unknown
    ids: 422 at `groups.N`) matching every criterion (422 at `search.field` and the like)."""
    async with platform.db.read() as conn:
        types = {f.id: f.type for f in await store.list_fields(conn, account_id)}
        criteria = check_criteria(raw, CONTACT_SEARCH, types)
        if list_ids:
            errors = _Errors()
            _missing_ids(errors, list_path, list_ids, await store.existing_list_ids(conn, account_id, list_ids), "list")
            errors.raise_any()
        total, found = await store.find_contacts(conn, account_id, list_ids=list_ids, criteria=criteria,
                                                 custom_types=types, sort=sort, descending=descending, offset=offset,
                                                 limit=limit)
    return total, found, criteria


def check_criteria(raw: Sequence[RawCriterion], fields: dict, custom: dict[int, str] | None = None) -> list[Criterion]:
    """Each criterion checked (domain/contacts.py `criterion`); all problems at once, at
    `<path>.field`, `<path>.operator` or `<path>.value`."""
    errors = _Errors()
    checked: list[Criterion] = []
    for r in raw:
        if r.field is None and r.value is None and r.operator is None:
            continue
        try:
            checked.append(rules.criterion(r.field, r.operator, r.value, fields, custom))
        except CriterionProblem as exc:
            errors.add(f"{r.path}.{exc.part}", str(exc))
    errors.raise_any()
    return checked


# -- the stop list ------------------------------------------------------------------------------


async def find_stoplisted(platform: Platform, account_id: int, *, channel: str | None = None,
                          list_id: int | None = None, raw: Sequence[RawCriterion] = (), sort: str = "id",
                          descending: bool = False, offset: int = 0, limit: int = 50,
                          ) -> tuple[int, list[StopListEntry], list[Criterion]]:
    """Search the account's stop list (One API `GET /api/stoplist/search`); returns (total, one page of entries,
    the criteria checked).

    Raises ValidationFailed for bad criteria (STOPLIST_SEARCH) or an unknown `list_id` (`contact_group_id`).
    """
    criteria = check_criteria(raw, STOPLIST_SEARCH)
    async with platform.db.read() as conn:
        if list_id is not None and not await store.existing_list_ids(conn, account_id, [list_id]):
            raise ValidationFailed.one("contact_group_id", f"The list {list_id} does not exist.")
        total, found = await store.find_stoplisted(conn, account_id, channel=channel, list_id=list_id,
                                                   criteria=criteria, sort=sort, descending=descending, offset=offset,
                                                   limit=limit)
    return total, found, criteria


def _types(errors: _Errors, types: Sequence[object]) -> list[str]:
    if not types:
        errors.add("types", "The types field must name at least one stop list: "
                            f"{', '.join(rules.STOPLIST_TYPES)}.")
    for i, t in enumerate(types):
        if t not in rules.STOPLIST_TYPES:
            errors.add(f"types.{i}", f"The stop-list type must be one of: {', '.join(rules.STOPLIST_TYPES)}.")
    return list(dict.fromkeys(t for t in types if t in rules.STOPLIST_TYPES))  # type: ignore[misc]


async def stoplist_attach(platform: Platform, account_id: int, phones: Sequence[object], types: Sequence[object],
                          *, source: str = "api") -> list[StopListEntry]:
    """Put phones on the stop lists of `types`; a phone not in the book becomes a contact.
    Returns the entries, one per distinct phone, in the order given."""
    errors = _Errors()
    numbers = [errors.check(f"phones.{i}", rules.contact_phone, p) for i, p in enumerate(phones)]
    channels = _types(errors, types)
    errors.raise_any()
    wanted = list(dict.fromkeys(numbers))
    async with platform.db.write() as conn:
        await stoplist_store.set_stoplisted(conn, account_id, wanted, channels, on=True, source=source,
                                            now=platform.clock())
        found = await store.stop_entries_by_phone(conn, account_id, wanted)
    return [found[p] for p in wanted if p in found]


async def stoplist_detach(platform: Platform, account_id: int, ids: Sequence[int], types: Sequence[object]) -> None:
    """Take contacts (by id) off the stop lists of `types`; they stay in the book."""
    errors = _Errors()
    channels = _types(errors, types)
    errors.raise_any()
    async with platform.db.write() as conn:
        phones = await store.phones_of(conn, account_id, ids)
        _missing_ids(errors, "ids", ids, set(phones), "contact")
        errors.raise_any()
        await stoplist_store.set_stoplisted(conn, account_id, list(phones.values()), channels, on=False,
                                            source="api", now=platform.clock())


# -- the send paths -----------------------------------------------------------------------------


async def add_to_contact_book(conn: AsyncConnection, account_id: int, phones: Sequence[int], now: datetime) -> None:
    """Add the phones not yet in the account's contact book (in no list), in the caller's
    transaction: one statement per 5,000 phones.  Phones already there are left untouched; phones
    shorter than the book's 9 digits are left out.  For the send paths' `add_to_contact_book`."""
    await store.add_phones(conn, account_id, phones, now)
