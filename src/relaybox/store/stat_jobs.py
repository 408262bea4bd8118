"""Statistics export jobs (`stat_jobs`) and their results (`stat_job_chunks`), and the walk over
an account's messages that fills them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.domain.models import Message
from relaybox.store.rows import message_from_row
from relaybox.store.messages import hour_of
from relaybox.store.tables import accounts, message_hours, messages, stat_job_chunks, stat_jobs

OPEN = ("pending", "processing")


@dataclass(frozen=True, slots=True)
class StatJob:
    """A stat (export) job: `request` the JSON it was created with, status pending | processing | done | failed."""
    id: int
    key: str
    account_id: int
    request: str  # JSON, as given
    status: str  # pending | processing | done | failed
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows: int
    error: str | None


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which of an account's messages a job exports (all terms ANDed; None: any)."""

    account_id: int
    created_from: datetime | None = None
    created_to: datetime | None = None  # inclusive
    sent_from: datetime | None = None
    sent_to: datetime | None = None
    message_ids: tuple[int, ...] | None = None
    phones: tuple[int, ...] | None = None
    country: str | None = None
    networks: tuple[tuple[str, str], ...] | None = None  # (country, brand) pairs, brand casefolded
    statuses: tuple[str, ...] | None = None
    campaign_id: int | None = None


def _job(row) -> StatJob:
    m = row._mapping
    return StatJob(m["id"], m["key"], m["account_id"], m["request"], m["status"], m["created_at"],
                   m["started_at"], m["finished_at"], m["rows"], m["error"])


async def create_job(conn: AsyncConnection, account_id: int, key: str, request: str, now: datetime,
                     max_open: int) -> StatJob | None:
    """A new pending job, or None when the account already has `max_open` jobs not finished.

    The account's row is locked first (PostgreSQL), so two requests at once cannot both pass the count.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
    open_jobs = (await conn.execute(
        select(func.count()).select_from(stat_jobs)
        .where(stat_jobs.c.account_id == account_id, stat_jobs.c.status.in_(OPEN))
    )).scalar_one()
    if open_jobs >= max_open:
        return None
    await conn.execute(insert(stat_jobs).values(key=key, account_id=account_id, request=request,
                                                status="pending", created_at=now))
    return await get_job(conn, account_id, key)


async def get_job(conn: AsyncConnection, account_id: int, key: str) -> StatJob | None:
    """The account's job by key, or None."""
    row = (await conn.execute(
        select(stat_jobs).where(stat_jobs.c.account_id == account_id, stat_jobs.c.key == key)
    )).first()
    return _job(row) if row else None


async def list_jobs(conn: AsyncConnection, account_id: int) -> list[StatJob]:
    """The account's jobs, newest first."""
    rows = await conn.execute(
        select(stat_jobs).where(stat_jobs.c.account_id == account_id).order_by(stat_jobs.c.id.desc())
    )
    return [_job(r) for r in rows]


async def delete_job(conn: AsyncConnection, account_id: int, key: str) -> bool:
    """Delete a job and its result (a running job stops at its next chunk); False: no such job."""
    job = await get_job(conn, account_id, key)
    if job is None:
        return False
    await conn.execute(delete(stat_job_chunks).where(stat_job_chunks.c.job_id == job.id))
    await conn.execute(delete(stat_jobs).where(stat_jobs.c.id == job.id))
    return True


async def claim_job(conn: AsyncConnection, claimer: str, now: datetime, stale_before: datetime) -> StatJob | None:
    """Take the oldest pending job, or a processing one whose claimer stopped renewing its
    heartbeat before `stale_before` (it died: the job starts over).  FOR UPDATE SKIP LOCKED on
    PostgreSQL, so workers never take the same job."""
    t = stat_jobs
    pick = (
        select(t.c.id)
        .where(or_(t.c.status == "pending", and_(t.c.status == "processing", t.c.heartbeat_at < stale_before)))
        .order_by(t.c.created_at, t.c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    found = (await conn.execute(pick)).first()
    if found is None:
        return None
    await conn.execute(delete(stat_job_chunks).where(stat_job_chunks.c.job_id == found.id))
    await conn.execute(update(t).where(t.c.id == found.id).values(
        status="processing", claimed_by=claimer, started_at=now, heartbeat_at=now, rows=0, error=None))
    row = (await conn.execute(select(t).where(t.c.id == found.id))).first()
    return _job(row)


async def add_chunk(conn: AsyncConnection, job_id: int, claimer: str, seq: int, first_row: int, rows: int,
                    data: bytes, now: datetime) -> bool:
    """Store one run of result rows, if the job is still this claimer's (False: deleted or taken over)."""
    renewed = await conn.execute(
        update(stat_jobs)
        .where(stat_jobs.c.id == job_id, stat_jobs.c.claimed_by == claimer, stat_jobs.c.status == "processing")
        .values(heartbeat_at=now, rows=first_row + rows)
    )
    if renewed.rowcount != 1:
        return False
    await conn.execute(insert(stat_job_chunks).values(job_id=job_id, seq=seq, first_row=first_row, rows=rows,
                                                      data=data))
    return True


async def finish_job(conn: AsyncConnection, job_id: int, claimer: str, status: str, rows: int, now: datetime,
                     error: str | None = None) -> bool:
    """Finish a job `claimer` is processing, with its status and row count; False when the claim was lost."""
    result = await conn.execute(
        update(stat_jobs)
        .where(stat_jobs.c.id == job_id, stat_jobs.c.claimed_by == claimer, stat_jobs.c.status == "processing")
        .values(status=status, rows=rows, finished_at=now, heartbeat_at=now, claimed_by=None, error=error)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class Chunk:
    """A stored slice of a job's result: gzip-compressed CSV lines, from row `first_row`."""
    seq: int
    first_row: int
    rows: int
    data: bytes  # gzip-compressed CSV lines


async def chunk_at(conn: AsyncConnection, job_id: int, seq: int) -> Chunk | None:
    """The job's chunk number `seq`, or None."""
    c = stat_job_chunks
    row = (await conn.execute(
        select(c.c.seq, c.c.first_row, c.c.rows, c.c.data).where(c.c.job_id == job_id, c.c.seq == seq)
    )).first()
    return Chunk(row[0], row[1], row[2], bytes(row[3])) if row else None


async def chunk_for_row(conn: AsyncConnection, job_id: int, row_index: int) -> Chunk | None:
    """The chunk holding result row `row_index` (0-based)."""
    c = stat_job_chunks
    row = (await conn.execute(
        select(c.c.seq, c.c.first_row, c.c.rows, c.c.data)
        .where(c.c.job_id == job_id, c.c.first_row <= row_index)
        .order_by(c.c.first_row.desc()).limit(1)
    )).first()
    if row is None or row_index >= row[1] + row[2]:
        return None
    return Chunk(row[0], row[1], row[2], bytes(row[3]))


async def matching_messages(conn: AsyncConnection, f: MessageFilter, after_id: int, limit: int,
                            id_range: tuple[int, int] | None = None) -> list[Message]:
    """Up to `limit` of the account's messages matching `f` with id > `after_id`, in id order
    (the (account_id, id) index, bounded by `id_range` when the date range gave one)."""
    m = messages
    where = [m.c.account_id == f.account_id, m.c.id > after_id]
    if id_range is not None:
        where += [m.c.id >= id_range[0], m.c.id <= id_range[1]]
    if f.created_from is not None:
        where.append(m.c.created_at >= f.created_from)
    if f.created_to is not None:
        where.append(m.c.created_at <= f.created_to)
    if f.sent_from is not None:
        where.append(m.c.sent_at >= f.sent_from)
    if f.sent_to is not None:
        where.append(m.c.sent_at <= f.sent_to)
    if f.message_ids is not None:
        where.append(m.c.id.in_(f.message_ids))
    if f.phones is not None:
        where.append(m.c.phone.in_(f.phones))
    if f.country is not None:
        where.append(m.c.country == f.country)
    if f.networks is not None:
        where.append(or_(*[and_(m.c.country == c, func.lower(m.c.brand) == b) for c, b in f.networks])
                     if f.networks else m.c.id < 0)
    if f.statuses is not None:
        where.append(m.c.status.in_(f.statuses))
    if f.campaign_id is not None:
        where.append(m.c.campaign_id == f.campaign_id)
    rows = await conn.execute(select(m).where(*where).order_by(m.c.id).limit(limit))
    return [message_from_row(r) for r in rows]


async def id_range_for(conn: AsyncConnection, account_id: int, start: datetime, end: datetime) -> tuple[int, int] | None:
    """From `message_hours`: ids that bound every message created in [start, end] (None: none)."""
    h = message_hours
    row = (await conn.execute(
        select(func.min(h.c.min_id), func.max(h.c.max_id))
        .where(h.c.account_id == account_id, h.c.hour >= hour_of(start), h.c.hour <= end)
    )).first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])

