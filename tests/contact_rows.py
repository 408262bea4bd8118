"""Contact book rows written straight into the store, for tests of the send paths (the contacts API
is built elsewhere): contacts, custom fields and their values, lists and their members, and the
stop list."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from relaybox.services.platform import Platform
from relaybox.store import stoplist
from relaybox.store.tables import contact_field_values, contact_fields, contact_group_members, contact_groups, contacts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def add_field(platform: Platform, account_id: int, name: str, type: str = "text") -> int:
    async with platform.db.write() as conn:
        result = await conn.execute(
            insert(contact_fields).values(account_id=account_id, name=name, type=type, created_at=NOW)
            .returning(contact_fields.c.id)
        )
        return result.scalar_one()


async def add_list(platform: Platform, account_id: int, name: str = "list", contacts_: list[dict] | None = None) -> int:
    """A contact list with `contacts_`: each {"phone": int, <field name>: value, ...}; contacts
    already in the book are reused (their values set again).  Returns the list id."""
    async with platform.db.write() as conn:
        group_id = (await conn.execute(
            insert(contact_groups).values(account_id=account_id, name=name, created_at=NOW).returning(contact_groups.c.id)
        )).scalar_one()
    await add_members(platform, account_id, group_id, contacts_ or [])
    return group_id


async def add_members(platform: Platform, account_id: int, group_id: int, contacts_: list[dict]) -> None:
    if not contacts_:
        return
    async with platform.db.write() as conn:
        fields = {r.name: r.id for r in await conn.execute(
            select(contact_fields.c.id, contact_fields.c.name).where(contact_fields.c.account_id == account_id))}
        phones = [c["phone"] for c in contacts_]
        existing = {r.phone: r.id for r in await conn.execute(
            select(contacts.c.id, contacts.c.phone).where(contacts.c.account_id == account_id,
                                                          contacts.c.phone.in_(phones)))}
        new = [p for p in phones if p not in existing]
        for start in range(0, len(new), 5000):
            await conn.execute(insert(contacts), [
                {"account_id": account_id, "phone": p, "created_at": NOW, "updated_at": NOW}
                for p in new[start:start + 5000]])
        ids: dict[int, int] = {}
        for start in range(0, len(phones), 5000):
            ids.update({r.phone: r.id for r in await conn.execute(
                select(contacts.c.id, contacts.c.phone).where(contacts.c.account_id == account_id,
                                                              contacts.c.phone.in_(phones[start:start + 5000])))})
        members = [{"group_id": group_id, "contact_id": ids[p], "created_at": NOW} for p in dict.fromkeys(phones)]
        values = [
            {"contact_id": ids[c["phone"]], "field_id": fields[k], "value": v}
            for c in contacts_ for k, v in c.items() if k != "phone" and v is not None
        ]
        for start in range(0, len(members), 5000):
            await conn.execute(insert(contact_group_members), members[start:start + 5000])
        for c in contacts_:  # a value given again for a contact already in the book replaces the old one
            if c["phone"] in existing:
                for k in c:
                    if k != "phone":
                        await conn.execute(delete(contact_field_values).where(
                            contact_field_values.c.contact_id == existing[c["phone"]],
                            contact_field_values.c.field_id == fields[k]))
        for start in range(0, len(values), 5000):
            await conn.execute(insert(contact_field_values), values[start:start + 5000])


async def stop_list(platform: Platform, account_id: int, phones: list[int], channels: tuple[str, ...] = ("sms",)) -> None:
    async with platform.db.write() as conn:
        await stoplist.set_stoplisted(conn, account_id, phones, channels, on=True, source="api", now=NOW)
