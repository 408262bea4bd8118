"""Who a send to contact lists reaches: the contacts of an account's lists, with the values of the
custom fields its text refers to (store/tables.py `contact_groups`, `contact_group_members`,
`contacts`, `contact_fields`, `contact_field_values`).

Every query is scoped by the account: another account's list or field is never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.tables import contact_field_values, contact_fields, contact_group_members, contact_groups, contacts


@dataclass(slots=True)
class ListContact:
    """One contact reached by a send: its id, E.164 phone (digits as an integer) and the values
    of the asked-for fields by field name (a field without a value is absent)."""

    id: int
    phone: int
    values: dict[str, str] = field(default_factory=dict)


async def own_groups(conn: AsyncConnection, account_id: int, group_ids: Iterable[int]) -> set[int]:
    """Those of `group_ids` that are lists of the account (another account's id is simply not found)."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return set()
    rows = await conn.execute(
        select(contact_groups.c.id).where(contact_groups.c.account_id == account_id, contact_groups.c.id.in_(wanted))
    )
    return {r.id for r in rows}


async def field_ids(conn: AsyncConnection, account_id: int, names: Iterable[str]) -> dict[str, int]:
    """The ids of the account's custom fields called `names` (exact names); unknown names are absent."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(contact_fields.c.id, contact_fields.c.name).where(
            contact_fields.c.account_id == account_id, contact_fields.c.name.in_(wanted)
        )
    )
    return {r.name: r.id for r in rows}


async def list_contacts(
    conn: AsyncConnection, account_id: int, group_ids: list[int], fields: dict[str, int]
) -> list[ListContact]:
    """The union of the contacts of `group_ids` (each contact once, in id order) with their values
    of `fields` ({name: field id}).  The caller has checked that the lists are the account's;
    the account filter here keeps it so even if not.

    Cost: one scan of the lists' memberships (primary key prefix) joined to contacts, plus one of
    the values of the asked-for fields; no per-contact statement.
    """
    if not group_ids:
        return []
    members = select(contact_group_members.c.contact_id).where(contact_group_members.c.group_id.in_(group_ids))
    rows = await conn.execute(
        select(contacts.c.id, contacts.c.phone)
        .where(contacts.c.account_id == account_id, contacts.c.id.in_(members))
        .order_by(contacts.c.id)
    )
    found = {r.id: ListContact(r.id, r.phone) for r in rows}
    if fields and found:
        names = {fid: name for name, fid in fields.items()}
        values = await conn.execute(
            select(contact_field_values.c.contact_id, contact_field_values.c.field_id, contact_field_values.c.value)
            .where(contact_field_values.c.field_id.in_(sorted(names)), contact_field_values.c.contact_id.in_(members))
        )
        for contact_id, field_id, value in values:
            contact = found.get(contact_id)
            if contact is not None:
                contact.values[names[field_id]] = value
    return list(found.values())
