"""The contact book's SQL: contacts, custom fields and their values, contact lists and their members.

Every statement is scoped by the account.  Phones are E.164 digits as integers.  SQLite does not
enforce foreign keys here, so deletions remove dependent rows (values, memberships) explicitly;
PostgreSQL's cascades then find nothing left.  Counts (`items`, `stop_list_count`, totals) are
exact COUNT queries backed by indexes (docs/benchmarks.md, "Contact book").
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    Numeric,
    String,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.contacts import (
    MAX_CONTACT_GROUPS,
    MIN_CONTACT_PHONE,
    Contact,
    ContactField,
    ContactList,
    Criterion,
    StopListEntry,
    like_pattern,
)
from relaybox.store.bulk import to_driver
from relaybox.store.db import driver
from relaybox.store.tables import (
    STOPLISTED_SQL,
    contact_field_values,
    contact_fields,
    contact_group_members,
    contact_groups,
    contacts,
)

#: Ids or phones per IN (...) list: well under SQLite's 32,766 bound parameters.
CHUNK = 5000

members = contact_group_members
values_t = contact_field_values
STOPLISTED = text(f"({STOPLISTED_SQL})")


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert(conn: AsyncConnection):
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


# -- lists ---------------------------------------------------------------------------------------


async def default_list_id(conn: AsyncConnection, account_id: int) -> int | None:
    """The id of the account's default contact list, or None."""
    return (await conn.execute(
        select(contact_groups.c.id).where(contact_groups.c.account_id == account_id, contact_groups.c.is_default == true())
    )).scalar()


async def ensure_default_list(conn: AsyncConnection, account_id: int, name: str, now: datetime) -> int | None:
    """The account's default list, created if it has none; its id (None if `name` is taken by
    another list, which leaves the account without one until it is freed).

    Race-free: the unique index on (account_id) WHERE is_default lets one insert win; the others
    do nothing (ON CONFLICT DO NOTHING).
    """
    found = await default_list_id(conn, account_id)
    if found is not None:
        return found
    await conn.execute(
        _insert(conn)(contact_groups)
        .values(account_id=account_id, name=name, description=None, is_default=True, created_at=now)
        .on_conflict_do_nothing()
    )
    return await default_list_id(conn, account_id)


async def insert_list(conn: AsyncConnection, account_id: int, name: str, description: str | None, is_default: bool,
                      now: datetime) -> int:
    """Insert a contact list (clearing the old default first when `is_default`); returns its id."""
    if is_default:
        await clear_default(conn, account_id)
    result = await conn.execute(insert(contact_groups).values(
        account_id=account_id, name=name, description=description, is_default=is_default, created_at=now))
    return result.inserted_primary_key[0]


async def clear_default(conn: AsyncConnection, account_id: int) -> None:
    """Make none of the account's lists the default."""
    await conn.execute(update(contact_groups).where(
        contact_groups.c.account_id == account_id, contact_groups.c.is_default == true()).values(is_default=False))


async def update_list(conn: AsyncConnection, account_id: int, list_id: int, values: dict) -> None:
    """Update a list's columns from `values` (clearing the old default first when it sets `is_default`)."""
    if values.get("is_default"):
        await clear_default(conn, account_id)
    await conn.execute(update(contact_groups).where(
        contact_groups.c.account_id == account_id, contact_groups.c.id == list_id).values(**values))


async def delete_list(conn: AsyncConnection, account_id: int, list_id: int) -> None:
    """Delete a list and its memberships; its contacts stay in the book."""
    await conn.execute(delete(members).where(members.c.group_id == list_id))
    await conn.execute(delete(contact_groups).where(
        contact_groups.c.account_id == account_id, contact_groups.c.id == list_id))


async def list_name_taken(conn: AsyncConnection, account_id: int, name: str, *, other_than: int | None = None) -> bool:
    """Whether another of the account's lists (not `other_than`) has exactly this name."""
    where = [contact_groups.c.account_id == account_id, contact_groups.c.name == name]
    if other_than is not None:
        where.append(contact_groups.c.id != other_than)
    return (await conn.execute(select(contact_groups.c.id).where(*where).limit(1))).first() is not None


async def list_id_by_name(conn: AsyncConnection, account_id: int, name: str) -> int | None:
    """The id of the account's list with exactly this name, or None."""
    return (await conn.execute(select(contact_groups.c.id).where(
        contact_groups.c.account_id == account_id, contact_groups.c.name == name))).scalar()


async def existing_list_ids(conn: AsyncConnection, account_id: int, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that are the account's lists."""
    found: set[int] = set()
    wanted = list(dict.fromkeys(ids))
    for chunk in _chunks(wanted):
        rows = await conn.execute(select(contact_groups.c.id).where(
            contact_groups.c.account_id == account_id, contact_groups.c.id.in_(chunk)))
        found.update(r.id for r in rows)
    return found


async def list_counts(conn: AsyncConnection, account_id: int, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per list id: (contacts in it, of which on a stop list), counted exactly.

    The members count walks the list's part of the members' primary key; the stop-listed count
    starts from the account's stop-listed contacts (a partial index) and probes the membership.
    """
    if not ids:
        return {}
    items = dict((await conn.execute(
        select(members.c.group_id, func.count()).where(members.c.group_id.in_(ids)).group_by(members.c.group_id)
    )).all())
    stopped = dict((await conn.execute(
        select(members.c.group_id, func.count())
        .select_from(contacts.join(members, members.c.contact_id == contacts.c.id))
        .where(contacts.c.account_id == account_id, STOPLISTED, members.c.group_id.in_(ids))
        .group_by(members.c.group_id)
    )).all())
    return {i: (items.get(i, 0), stopped.get(i, 0)) for i in ids}


def _list(row, counts: dict[int, tuple[int, int]]) -> ContactList:
    n, stopped = counts.get(row.id, (0, 0))
    return ContactList(id=row.id, name=row.name, description=row.description, is_default=row.is_default,
                       created_at=row.created_at, items=n, stop_list_count=stopped)


async def get_lists(conn: AsyncConnection, account_id: int, ids: Sequence[int]) -> dict[int, ContactList]:
    """The account's lists among `ids`, with their counts."""
    rows = (await conn.execute(select(contact_groups).where(
        contact_groups.c.account_id == account_id, contact_groups.c.id.in_(list(ids))))).all()
    counts = await list_counts(conn, account_id, [r.id for r in rows])
    return {r.id: _list(r, counts) for r in rows}


def _items_column():
    return (select(func.count()).where(members.c.group_id == contact_groups.c.id)
            .correlate(contact_groups).scalar_subquery())


_LIST_SORTS = {"id": contact_groups.c.id, "name": contact_groups.c.name, "description": contact_groups.c.description,
               "created_at": contact_groups.c.created_at, "date": contact_groups.c.created_at}


async def find_lists(conn: AsyncConnection, account_id: int, criteria: Sequence[Criterion] = (), *, sort: str = "id",
                     descending: bool = False, offset: int = 0, limit: int = 50) -> tuple[int, list[ContactList]]:
    """(total, one page of lists) of the account matching every criterion (LIST_SEARCH fields)."""
    where = [contact_groups.c.account_id == account_id, *[_list_condition(account_id, c) for c in criteria]]
    total = (await conn.execute(select(func.count()).select_from(contact_groups).where(*where))).scalar_one()
    order = _items_column() if sort == "items" else _LIST_SORTS[sort]
    order = order.desc() if descending else order.asc()
    tie = contact_groups.c.id.desc() if descending else contact_groups.c.id.asc()
    rows = (await conn.execute(
        select(contact_groups).where(*where).order_by(order, tie).offset(offset).limit(limit))).all()
    counts = await list_counts(conn, account_id, [r.id for r in rows])
    return total, [_list(r, counts) for r in rows]


def _compare(column, operator: str, value):
    if operator == "like":
        return column.like(like_pattern(str(value)), escape="\\")
    return {"=": column == value, ">": column > value, ">=": column >= value, "<": column < value,
            "<=": column <= value}[operator]


def _list_condition(account_id: int, c: Criterion):
    if c.field == "items":
        return _compare(_items_column(), c.operator, c.value)
    if c.field == "phone":
        phone_match = _compare(cast(contacts.c.phone, String), "like", c.value) if c.operator == "like" \
            else contacts.c.phone == c.value
        return exists(select(1).select_from(members.join(contacts, contacts.c.id == members.c.contact_id)).where(
            members.c.group_id == contact_groups.c.id, contacts.c.account_id == account_id, phone_match))
    column = {"id": contact_groups.c.id, "name": contact_groups.c.name, "description": contact_groups.c.description,
              "created_at": contact_groups.c.created_at}[c.field]
    return _compare(column, c.operator, c.value)


# -- custom fields -------------------------------------------------------------------------------


def _field(row) -> ContactField:
    return ContactField(id=row.id, name=row.name, description=row.description, type=row.type, is_visible=row.is_visible)


async def list_fields(conn: AsyncConnection, account_id: int) -> list[ContactField]:
    """The account's custom contact fields, by id."""
    rows = await conn.execute(select(contact_fields).where(contact_fields.c.account_id == account_id)
                              .order_by(contact_fields.c.id))
    return [_field(r) for r in rows]


async def count_fields(conn: AsyncConnection, account_id: int) -> int:
    """How many custom contact fields the account has."""
    return (await conn.execute(select(func.count()).select_from(contact_fields)
                               .where(contact_fields.c.account_id == account_id))).scalar_one()


async def get_field(conn: AsyncConnection, account_id: int, field_id: int) -> ContactField | None:
    """The account's custom field, or None."""
    row = (await conn.execute(select(contact_fields).where(
        contact_fields.c.account_id == account_id, contact_fields.c.id == field_id))).first()
    return _field(row) if row else None


async def field_name_taken(conn: AsyncConnection, account_id: int, name: str, *, other_than: int | None = None) -> bool:
    """Whether another of the account's fields (not `other_than`) has exactly this name."""
    where = [contact_fields.c.account_id == account_id, contact_fields.c.name == name]
    if other_than is not None:
        where.append(contact_fields.c.id != other_than)
    return (await conn.execute(select(contact_fields.c.id).where(*where).limit(1))).first() is not None


async def insert_field(conn: AsyncConnection, account_id: int, name: str, description: str | None, kind: str,
                       is_visible: bool, now: datetime) -> int:
    """Insert a custom field (`kind` goes to the `type` column); returns its id."""
    result = await conn.execute(insert(contact_fields).values(
        account_id=account_id, name=name, description=description, type=kind, is_visible=is_visible, created_at=now))
    return result.inserted_primary_key[0]


async def update_field(conn: AsyncConnection, account_id: int, field_id: int, values: dict) -> None:
    """Update a custom field's columns from `values`."""
    await conn.execute(update(contact_fields).where(
        contact_fields.c.account_id == account_id, contact_fields.c.id == field_id).values(**values))


async def delete_fields(conn: AsyncConnection, account_id: int, ids: Sequence[int]) -> None:
    """Delete the account's fields among `ids` and every contact's value of them."""
    mine = select(contact_fields.c.id).where(contact_fields.c.account_id == account_id, contact_fields.c.id.in_(ids))
    await conn.execute(delete(values_t).where(values_t.c.field_id.in_(mine)))
    await conn.execute(delete(contact_fields).where(
        contact_fields.c.account_id == account_id, contact_fields.c.id.in_(ids)))


async def set_values(conn: AsyncConnection, contact_id: int, values: dict[int, str | None]) -> None:
    """Set a contact's values (field id → value; None removes the value)."""
    gone = [f for f, v in values.items() if v is None]
    if gone:
        await conn.execute(delete(values_t).where(values_t.c.contact_id == contact_id, values_t.c.field_id.in_(gone)))
    rows = [{"contact_id": contact_id, "field_id": f, "value": v} for f, v in values.items() if v is not None]
    await upsert_values(conn, rows)


async def upsert_values(conn: AsyncConnection, rows: list[dict]) -> None:
    """Insert or replace values: rows of {contact_id, field_id, value}, one per (contact, field)."""
    if not rows:
        return
    stmt = _insert(conn)(values_t)
    stmt = stmt.on_conflict_do_update(index_elements=[values_t.c.contact_id, values_t.c.field_id],
                                      set_={"value": stmt.excluded.value})
    for chunk in _chunks(rows, 2000):
        await conn.execute(stmt, list(chunk))


# -- contacts ------------------------------------------------------------------------------------


async def contact_id_by_phone(conn: AsyncConnection, account_id: int, phone: int) -> int | None:
    """The id of the account's contact with this phone (E.164 digits as an integer), or None."""
    return (await conn.execute(select(contacts.c.id).where(
        contacts.c.account_id == account_id, contacts.c.phone == phone))).scalar()


async def insert_contact(conn: AsyncConnection, account_id: int, phone: int, now: datetime) -> int:
    """Insert a contact with `phone` (E.164 digits as an integer); returns its id."""
    result = await conn.execute(insert(contacts).values(account_id=account_id, phone=phone, created_at=now,
                                                        updated_at=now))
    return result.inserted_primary_key[0]


async def update_contact_phone(conn: AsyncConnection, account_id: int, contact_id: int, phone: int,
                               now: datetime) -> None:
    """Set a contact's phone (E.164 digits as an integer) and `updated_at`."""
    await conn.execute(update(contacts).where(contacts.c.account_id == account_id, contacts.c.id == contact_id)
                       .values(phone=phone, updated_at=now))


async def existing_contact_ids(conn: AsyncConnection, account_id: int, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that are the account's contacts."""
    found: set[int] = set()
    for chunk in _chunks(list(dict.fromkeys(ids))):
        rows = await conn.execute(select(contacts.c.id).where(contacts.c.account_id == account_id,
                                                              contacts.c.id.in_(chunk)))
        found.update(r.id for r in rows)
    return found


async def delete_contacts(conn: AsyncConnection, account_id: int, ids: Sequence[int] = (),
                          list_ids: Sequence[int] = ()) -> int:
    """Delete the account's contacts among `ids` and those in any of `list_ids` (with their values
    and memberships); returns how many."""
    targets: list[int] = []
    for chunk in _chunks(list(ids)):
        targets += [r.id for r in await conn.execute(select(contacts.c.id).where(
            contacts.c.account_id == account_id, contacts.c.id.in_(chunk)))]
    if list_ids:
        targets += [r.contact_id for r in await conn.execute(
            select(members.c.contact_id).distinct().select_from(members.join(
                contact_groups, contact_groups.c.id == members.c.group_id))
            .where(contact_groups.c.account_id == account_id, members.c.group_id.in_(list(list_ids))))]
    targets = list(dict.fromkeys(targets))
    for chunk in _chunks(targets):
        await conn.execute(delete(values_t).where(values_t.c.contact_id.in_(chunk)))
        await conn.execute(delete(members).where(members.c.contact_id.in_(chunk)))
        await conn.execute(delete(contacts).where(contacts.c.account_id == account_id, contacts.c.id.in_(chunk)))
    return len(targets)


async def attach(conn: AsyncConnection, contact_ids: Sequence[int], list_ids: Sequence[int], now: datetime) -> None:
    """Put every contact in every list (already-members are left as they are).  The ids must be
    the account's (checked by the caller in the same transaction)."""
    rows = [{"group_id": g, "contact_id": c, "created_at": now} for g in dict.fromkeys(list_ids)
            for c in dict.fromkeys(contact_ids)]
    if not rows:
        return
    stmt = _insert(conn)(members).on_conflict_do_nothing()
    for chunk in _chunks(rows, 2000):
        await conn.execute(stmt, list(chunk))


async def detach(conn: AsyncConnection, contact_ids: Sequence[int], list_ids: Sequence[int]) -> None:
    """Remove every membership of these contacts in these lists (callers check ownership first)."""
    await conn.execute(delete(members).where(members.c.group_id.in_(list(list_ids)),
                                             members.c.contact_id.in_(list(contact_ids))))


def _contact_condition(account_id: int, c: Criterion, custom_types: dict[int, str]):
    if isinstance(c.field, int):
        value_column = values_t.c.value
        if custom_types.get(c.field) == "number":
            # cast only this field's values (all numbers): the database may test conditions in any order
            value_column = case((values_t.c.field_id == c.field, cast(values_t.c.value, Numeric)))
        # IN (…) rather than a correlated EXISTS: SQLite then reads the field's values once (by their
        # field_id index) instead of probing them once per contact of the book
        return contacts.c.id.in_(select(values_t.c.contact_id).where(
            values_t.c.field_id == c.field, _compare(value_column, c.operator, c.value)))
    if c.field == "group_id":
        return contacts.c.id.in_(select(members.c.contact_id).where(members.c.group_id == c.value))
    if c.field == "phone":
        if c.operator == "like":
            return _compare(cast(contacts.c.phone, String), "like", c.value)
        return contacts.c.phone == c.value
    column = {"id": contacts.c.id, "created_at": contacts.c.created_at}[c.field]
    return _compare(column, c.operator, c.value)


async def find_contacts(
    conn: AsyncConnection, account_id: int, *, list_ids: Sequence[int] = (), criteria: Sequence[Criterion] = (),
    custom_types: dict[int, str] | None = None, sort: str = "id", descending: bool = False, offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[Contact]]:
    """(total, one page of contacts) of the account: in any of `list_ids` (when given) and
    matching every criterion (CONTACT_SEARCH fields or custom field ids)."""
    if len(list_ids) == 1 and not criteria and sort == "id":
        return await _one_list(conn, account_id, list_ids[0], descending, offset, limit)
    where = [contacts.c.account_id == account_id]
    if list_ids:
        where.append(contacts.c.id.in_(select(members.c.contact_id).where(members.c.group_id.in_(list(list_ids)))))
    where += [_contact_condition(account_id, c, custom_types or {}) for c in criteria]
    total = (await conn.execute(select(func.count()).select_from(contacts).where(*where))).scalar_one()
    column = contacts.c.phone if sort == "phone" else contacts.c.id
    order = [column.desc() if descending else column.asc()]
    if sort == "phone":
        order.append(contacts.c.id.desc() if descending else contacts.c.id.asc())
    rows = (await conn.execute(select(contacts.c.id, contacts.c.phone, contacts.c.created_at, contacts.c.hlr_status)
                               .where(*where).order_by(*order).offset(offset).limit(limit))).all()
    return total, await _with_details(conn, account_id, rows)


async def _one_list(conn: AsyncConnection, account_id: int, list_id: int, descending: bool, offset: int,
                    limit: int) -> tuple[int, list[Contact]]:
    """The members of one list, walked in the list's part of the members' primary key (group_id,
    contact_id): the total and a page cost what the list's size costs, not the book's."""
    total = (await conn.execute(select(func.count()).select_from(members)
                                .where(members.c.group_id == list_id))).scalar_one()
    order = members.c.contact_id.desc() if descending else members.c.contact_id.asc()
    rows = (await conn.execute(
        select(contacts.c.id, contacts.c.phone, contacts.c.created_at, contacts.c.hlr_status)
        .select_from(members.join(contacts, contacts.c.id == members.c.contact_id))
        .where(members.c.group_id == list_id, contacts.c.account_id == account_id)
        .order_by(order).offset(offset).limit(limit)
    )).all()
    return total, await _with_details(conn, account_id, rows)


async def get_contacts(conn: AsyncConnection, account_id: int, ids: Sequence[int]) -> list[Contact]:
    """The account's contacts among `ids`, by id, with field values and lists; unknown ids are left out."""
    rows = (await conn.execute(select(contacts.c.id, contacts.c.phone, contacts.c.created_at, contacts.c.hlr_status)
                               .where(contacts.c.account_id == account_id, contacts.c.id.in_(list(ids)))
                               .order_by(contacts.c.id))).all()
    return await _with_details(conn, account_id, rows)


async def _with_details(conn: AsyncConnection, account_id: int, rows) -> list[Contact]:
    """Contacts of `rows` with their values and lists (each list with its counts): three queries a page."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    values: dict[int, dict[int, str]] = defaultdict(dict)
    for v in await conn.execute(select(values_t).where(values_t.c.contact_id.in_(ids))
                                .order_by(values_t.c.contact_id, values_t.c.field_id)):
        values[v.contact_id][v.field_id] = v.value
    memberships: dict[int, list[int]] = defaultdict(list)
    for m in await conn.execute(select(members.c.contact_id, members.c.group_id).where(members.c.contact_id.in_(ids))
                                .order_by(members.c.contact_id, members.c.group_id)):
        if len(memberships[m.contact_id]) < MAX_CONTACT_GROUPS:
            memberships[m.contact_id].append(m.group_id)
    wanted = sorted({g for gs in memberships.values() for g in gs})
    lists = await get_lists(conn, account_id, wanted) if wanted else {}
    return [
        Contact(id=r.id, phone=r.phone, created_at=r.created_at, hlr_status=r.hlr_status, fields=values.get(r.id, {}),
                groups=[lists[g] for g in memberships.get(r.id, []) if g in lists])
        for r in rows
    ]


# -- the stop list ------------------------------------------------------------------------------

_STOPLIST_TIME = func.coalesce(contacts.c.stoplisted_at, contacts.c.created_at)


def _stoplist_condition(c: Criterion):
    if c.field == "type":
        return contacts.c[f"{c.value}_stoplist"] == true()
    if c.field == "phone":
        if c.operator == "like":
            return _compare(cast(contacts.c.phone, String), "like", c.value)
        return contacts.c.phone == c.value
    column = {"id": contacts.c.id, "created_at": _STOPLIST_TIME}[c.field]
    return _compare(column, c.operator, c.value)


async def find_stoplisted(
    conn: AsyncConnection, account_id: int, *, channel: str | None = None, list_id: int | None = None,
    criteria: Sequence[Criterion] = (), sort: str = "id", descending: bool = False, offset: int = 0, limit: int = 50,
) -> tuple[int, list[StopListEntry]]:
    """(total, one page) of the account's contacts on the stop list of `channel` (any channel when
    None), in list `list_id` when given, matching every criterion (STOPLIST_SEARCH fields)."""
    where = [contacts.c.account_id == account_id, STOPLISTED]
    if channel is not None:
        where.append(contacts.c[f"{channel}_stoplist"] == true())
    if list_id is not None:
        where.append(exists(select(1).where(members.c.contact_id == contacts.c.id, members.c.group_id == list_id)))
    where += [_stoplist_condition(c) for c in criteria]
    total = (await conn.execute(select(func.count()).select_from(contacts).where(*where))).scalar_one()
    column = contacts.c.phone if sort == "phone" else contacts.c.id
    rows = (await conn.execute(
        select(contacts, _STOPLIST_TIME.label("listed_at")).where(*where)
        .order_by(column.desc() if descending else column.asc(), contacts.c.id).offset(offset).limit(limit)
    )).all()
    return total, [_stop_entry(r) for r in rows]


def _stop_entry(r) -> StopListEntry:
    return StopListEntry(id=r.id, phone=r.phone, created_at=r.stoplisted_at or r.created_at, sms=r.sms_stoplist,
                         viber=r.viber_stoplist, rcs=r.rcs_stoplist, whatsapp=r.whatsapp_stoplist)


async def stop_entries_by_phone(conn: AsyncConnection, account_id: int, phones: Sequence[int]) -> dict[int, StopListEntry]:
    """The stop-list state of the account's contacts with these phones: {phone: entry}; phones without a contact are absent."""
    found: dict[int, StopListEntry] = {}
    for chunk in _chunks(list(phones)):
        for r in await conn.execute(select(contacts).where(contacts.c.account_id == account_id,
                                                           contacts.c.phone.in_(chunk))):
            found[r.phone] = _stop_entry(r)
    return found


async def phones_of(conn: AsyncConnection, account_id: int, ids: Sequence[int]) -> dict[int, int]:
    """Contact id → phone, for the account's contacts among `ids`."""
    found: dict[int, int] = {}
    for chunk in _chunks(list(ids)):
        for r in await conn.execute(select(contacts.c.id, contacts.c.phone).where(
                contacts.c.account_id == account_id, contacts.c.id.in_(chunk))):
            found[r.id] = r.phone
    return found


# -- bulk: the send paths and the CSV import ----------------------------------------------------


async def add_phones(conn: AsyncConnection, account_id: int, phones: Sequence[int], now: datetime) -> None:
    """Add the phones that are not in the account's book yet, in one statement per 5,000 phones
    (the phones travel as one JSON array parameter: no per-row binding).  Phones below the
    contact book's 9 digits are left out (the spec's `ContactPhone` minimum)."""
    wanted = sorted({p for p in phones if p >= MIN_CONTACT_PHONE})
    if not wanted:
        return
    if conn.dialect.name == "postgresql":
        sql = ("INSERT INTO contacts (account_id, phone, created_at, updated_at) "
               "SELECT $1, p, $2, $2 FROM unnest($3::bigint[]) AS p ON CONFLICT DO NOTHING")
        raw = await driver(conn)
        for chunk in _chunks(wanted):
            await raw.execute(sql, account_id, now, list(chunk))
        return
    stamp = to_driver(contacts.c.created_at, conn.dialect, now)
    sql = ("INSERT INTO contacts (account_id, phone, created_at, updated_at) "
           "SELECT ?, value, ?, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING")
    for chunk in _chunks(wanted):
        await conn.exec_driver_sql(sql, (account_id, stamp, stamp, json.dumps(list(chunk))))


async def contacts_by_phone(conn: AsyncConnection, account_id: int, phones: Sequence[int]) -> dict[int, tuple[int, datetime]]:
    """Phone → (contact id, updated_at) for the account's contacts among `phones`."""
    found: dict[int, tuple[int, datetime]] = {}
    for chunk in _chunks(list(phones)):
        for r in await conn.execute(select(contacts.c.id, contacts.c.phone, contacts.c.updated_at).where(
                contacts.c.account_id == account_id, contacts.c.phone.in_(chunk))):
            found[r.phone] = (r.id, r.updated_at)
    return found


async def upsert_contacts(conn: AsyncConnection, account_id: int, phones: Sequence[int], now: datetime) -> None:
    """Insert the phones not in the book; mark every one of them `updated_at = now`."""
    if not phones:
        return
    stmt = _insert(conn)(contacts)
    stmt = stmt.on_conflict_do_update(index_elements=[contacts.c.account_id, contacts.c.phone],
                                      set_={"updated_at": stmt.excluded.updated_at})
    for chunk in _chunks(list(phones), 2000):
        await conn.execute(stmt, [{"account_id": account_id, "phone": p, "created_at": now, "updated_at": now}
                                  for p in chunk])

