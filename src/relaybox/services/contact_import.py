"""Contacts imported from a CSV file into an account's contact book and one of its lists
(`relaybox contacts import`; the file format is in docs/contacts.md, "Importing a CSV file").

The file is read as a stream and written in chunks of rows, one transaction per chunk, with a
few multi-row statements each (contacts, field values, memberships): memory stays the same
whatever the file's size.  A row that breaks a rule is reported (`on_error(line, reason)`) and
left out; the others are imported.  Re-running the same file changes nothing: contacts are keyed
by (account, E.164 phone), values and memberships are upserts.

A phone that appears twice in the file is imported once, from its first line, and each later line
is reported: within a chunk by the rows seen; across chunks by the contact's `updated_at`, which
every row of this run sets to the run's own timestamp (so no set of every phone is kept).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from relaybox.domain import contacts as rules
from relaybox.domain.contacts import DEFAULT_LIST_NAME, MAX_FIELDS
from relaybox.domain.rules import RuleViolation
from relaybox.errors import NotFound, ValidationFailed
from relaybox.services.platform import Platform
from relaybox.store import accounts as accounts_store
from relaybox.store import contacts as store

#: Header names of the phone column (case-insensitive).
PHONE_HEADERS = ("phone", "number", "msisdn", "phone_number", "mobile")
#: Rows per transaction.
CHUNK_ROWS = 1000
#: The longest CSV cell read whole (a longer one is a row error): beyond any field value, so a
#: huge cell is refused by the value rule with its line, and still bounded in memory.
MAX_CELL = 64 * 1024


class ImportProblem(ValueError):
    """The file cannot be imported at all (no header, no phone column, unknown columns): nothing is written."""


@dataclass
class ImportReport:
    """What a contact import did: rows read, written, new contacts, refused rows, the list and the fields it created."""
    rows: int = 0  # data rows read
    imported: int = 0  # rows written
    created: int = 0  # of which new contacts
    refused: int = 0  # rows reported and left out
    list_id: int | None = None
    list_name: str = ""
    fields_created: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    field_id: int
    kind: str
    name: str


def _rows(path: Path) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line, cells or None, the problem) of each non-empty line; a line the csv module refuses
    (a cell over MAX_CELL characters, a stray quote) is a problem of that line, not the file's."""
    csv.field_size_limit(max(MAX_CELL, 1))
    with path.open(newline="", encoding="utf-8-sig", errors="strict") as handle:
        reader = csv.reader(handle)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, None, f"not a readable CSV line ({exc})"
                continue
            if not cells or all(not c.strip() for c in cells):
                continue
            yield reader.line_num, cells, None


def count_rows(path: Path) -> int:
    """Lines of the file after the header (for a progress bar; blank lines included)."""
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines, 1) - 1


async def import_csv(
    platform: Platform,
    account_id: int,
    path: Path,
    *,
    list_name: str | None = None,
    create_fields: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    on_error: Callable[[int, str], None] = lambda line, reason: None,
    on_progress: Callable[[int], None] = lambda rows: None,
) -> ImportReport:
    """Import `path` into the account's book and the list `list_name` (made if missing; the
    account's default list when None).  Raises ImportProblem for a file that cannot be imported,
    NotFound for an unknown account, ValidationFailed for a bad list name."""
    report = ImportReport()
    async with platform.db.read() as conn:
        if await accounts_store.get_account(conn, account_id) is None:
            raise NotFound(f"account {account_id} not found")
    if list_name is not None:
        try:
            list_name = rules.check_list_name(list_name)
        except RuleViolation as exc:
            raise ValidationFailed.one("list", str(exc)) from None
    rows = _rows(path)
    header = _header(rows)
    phone_at, columns = await _columns(platform, account_id, header, create_fields, report)
    stamp = platform.clock()
    async with platform.db.write() as conn:
        if list_name is None:
            report.list_id = await store.ensure_default_list(conn, account_id, DEFAULT_LIST_NAME, stamp)
            report.list_name = DEFAULT_LIST_NAME
        else:
            report.list_id = await store.list_id_by_name(conn, account_id, list_name)
            if report.list_id is None:
                await store.ensure_default_list(conn, account_id, DEFAULT_LIST_NAME, stamp)
                report.list_id = await store.insert_list(conn, account_id, list_name, None, False, stamp)
            report.list_name = list_name
    if report.list_id is None:  # the default list's name is taken by another list (store.ensure_default_list)
        raise ImportProblem(f"the account has no default list and {DEFAULT_LIST_NAME!r} is taken: give --list")

    chunk: dict[int, tuple[int, dict[int, str]]] = {}  # phone -> (line, values)

    def refuse(line: int, reason: str) -> None:
        report.refused += 1
        on_error(line, reason)

    for line, cells, problem in rows:
        report.rows += 1
        if problem is not None:
            refuse(line, problem)
        else:
            parsed = _parse(cells, len(header), phone_at, columns)  # type: ignore[arg-type]
            if isinstance(parsed, str):
                refuse(line, parsed)
            elif parsed[0] in chunk:
                refuse(line, f"the phone {parsed[0]} repeats line {chunk[parsed[0]][0]}")
            else:
                chunk[parsed[0]] = (line, parsed[1])
        if len(chunk) >= chunk_rows:
            await _write(platform, account_id, chunk, report, stamp, refuse)
            chunk = {}
        if report.rows % 500 == 0:
            on_progress(report.rows)
    if chunk:
        await _write(platform, account_id, chunk, report, stamp, refuse)
    on_progress(report.rows)
    return report


def _header(rows: Iterator) -> list[str]:
    for line, cells, problem in rows:
        if problem is not None:
            raise ImportProblem(f"line {line}: the header is {problem}")
        return [c.strip() for c in cells]
    raise ImportProblem("the file is empty: it needs a header line naming a phone column")


async def _columns(platform: Platform, account_id: int, header: list[str], create: bool,
                   report: ImportReport) -> tuple[int, list[_Column]]:
    """The phone column's index and the custom-field columns; unknown columns are created as
    text fields with `create`, else refused (ImportProblem)."""
    lowered = [h.lower() for h in header]
    phone_at = next((lowered.index(n) for n in PHONE_HEADERS if n in lowered), -1)
    if phone_at < 0:
        raise ImportProblem(f"no phone column in the header (name one of: {', '.join(PHONE_HEADERS)})")
    seen: set[str] = set()
    for h in lowered:
        if h in seen:
            raise ImportProblem(f"the header names the column {h!r} twice")
        seen.add(h)
    async with platform.db.write() as conn:
        known = {f.name.lower(): f for f in await store.list_fields(conn, account_id)}
        wanted = [(i, h) for i, h in enumerate(header) if i != phone_at]
        unknown = [h for _, h in wanted if h.lower() not in known]
        if unknown and not create:
            raise ImportProblem(f"no custom field named {', '.join(repr(u) for u in unknown)}: create the fields "
                                "first (POST /api/contacts/fields) or pass --create-fields")
        if len(known) + len(unknown) > MAX_FIELDS:
            raise ImportProblem(f"an account may have at most {MAX_FIELDS} custom fields")
        for name in unknown:
            try:
                name = rules.check_field_name(name)
            except RuleViolation as exc:
                raise ImportProblem(f"column {name!r}: {exc}") from None
            field_id = await store.insert_field(conn, account_id, name, None, "text", True, platform.clock())
            known[name.lower()] = await store.get_field(conn, account_id, field_id)
            report.fields_created.append(name)
    return phone_at, [_Column(i, known[h.lower()].id, known[h.lower()].type, known[h.lower()].name)
                      for i, h in wanted]


def _parse(cells: list[str], width: int, phone_at: int, columns: list[_Column]) -> tuple[int, dict[int, str]] | str:
    """A row's (phone, field values), or the reason it is refused."""
    if len(cells) > width:
        return f"{len(cells)} cells, but the header names {width} columns"
    raw_phone = cells[phone_at].strip() if phone_at < len(cells) else ""
    if not raw_phone:
        return "no phone number"
    try:
        phone = rules.contact_phone(raw_phone)
    except RuleViolation as exc:
        return f"phone {_show(raw_phone)}: {exc}"
    values: dict[int, str] = {}
    for column in columns:
        cell = cells[column.index] if column.index < len(cells) else ""
        try:
            value = rules.field_value(column.kind, cell)
        except RuleViolation as exc:
            return f"{column.name}: {exc}"
        if value is not None:
            values[column.field_id] = value
    return phone, values


def _show(value: str) -> str:
    shown = value if len(value) <= 40 else value[:40] + "…"
    return repr(shown.encode("unicode_escape").decode("ascii") if not shown.isprintable() else shown)


async def _write(platform: Platform, account_id: int, chunk: dict[int, tuple[int, dict[int, str]]],
                 report: ImportReport, stamp: datetime, refuse: Callable[[int, str], None]) -> None:
    """One transaction: the chunk's contacts, values and memberships."""
    async with platform.db.write() as conn:
        phones = list(chunk)
        before = await store.contacts_by_phone(conn, account_id, phones)
        for phone, (_, updated_at) in before.items():
            if _same_instant(updated_at, stamp):  # written by an earlier chunk of this run
                line = chunk.pop(phone)[0]
                refuse(line, f"the phone {phone} repeats an earlier line")
        phones = list(chunk)
        if not phones:
            return
        await store.upsert_contacts(conn, account_id, phones, stamp)
        ids = {p: i for p, (i, _) in (await store.contacts_by_phone(conn, account_id, phones)).items()}
        await store.upsert_values(conn, [{"contact_id": ids[p], "field_id": f, "value": v}
                                         for p, (_, values) in chunk.items() for f, v in values.items()])
        await store.attach(conn, list(ids.values()), [report.list_id], stamp)  # type: ignore[list-item]
    report.imported += len(phones)
    report.created += sum(1 for p in phones if p not in before)


def _same_instant(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(microseconds=1)

