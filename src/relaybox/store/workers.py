"""Engine workers' leases: who claimed a message, and whether that worker is still alive.

A worker that claims messages tags each of them (`messages.connector`, while
the message is `sending`) with its claim tag, `worker:<token>`.  For as long
as the worker lives it holds a lock that its death releases at once, whatever
the manner of death (`kill -9` included), because the operating system or the
database server drops the lock with the process or its connection:

- PostgreSQL: a session-level advisory lock `(LOCK_SPACE, token)` on a
  connection the worker keeps open; `pg_locks` lists the live tokens.
- SQLite (one machine): an exclusive `flock` on `<database>-workers/<token>`.

So "the claimer of this `sending` message is dead" is a fact, not a guess from
a heartbeat's age, and a worker that is merely slow never has its messages
taken from it.  Tokens are random and never reused by a live worker.
"""

from __future__ import annotations

import fcntl
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from relaybox.store.db import Database

#: First key of relaybox's advisory locks (ASCII "RBOX"); the second is the worker's token.
LOCK_SPACE = 0x52424F58
TAG_PREFIX = "worker:"


def tag_of(token: int) -> str:
    """The tag (`worker:<token>`) that marks what the worker with `token` holds."""
    return f"{TAG_PREFIX}{token}"


def token_of(tag: str | None) -> int | None:
    """The worker token in a tag from `tag_of`, or None when it is not one."""
    if tag is None or not tag.startswith(TAG_PREFIX):
        return None
    try:
        return int(tag[len(TAG_PREFIX):])
    except ValueError:
        return None


def _lock_dir(db: Database) -> Path | None:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}-workers")


#: Tokens held by this process, for a SQLite store without a file.
_local: set[int] = set()


@dataclass
class WorkerLease:
    """A live worker's lease; `release()` (or the process's death) ends it."""

    db: Database
    token: int
    _conn: AsyncConnection | None = None
    _fd: int | None = None
    _path: Path | None = None
    released: bool = field(default=False)

    @property
    def tag(self) -> str:
        return tag_of(self.token)

    async def alive(self) -> bool:
        """Whether this worker still holds its lock (its PostgreSQL connection may have been cut)."""
        if self.released:
            return False
        if self._conn is None:
            return True
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:  # noqa: BLE001 - any failure: the session, and the lock with it, is gone
            return False

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        _local.discard(self.token)
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock(:s, :t)"), {"s": LOCK_SPACE, "t": self.token})
            except Exception:  # noqa: BLE001 - a lost connection released it already
                pass
            finally:
                await self._conn.close()
        if self._fd is not None:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            os.close(self._fd)


async def acquire(db: Database) -> WorkerLease:
    """Register a worker: a fresh token whose lock this process holds until `release()` or death."""
    token = random.SystemRandom().randrange(1, 2**31 - 1)
    lease = WorkerLease(db, token)
    if db.is_sqlite:
        folder = _lock_dir(db)
        if folder is not None:
            folder.mkdir(exist_ok=True)
            lease._path = folder / str(token)
            # Locked under a temporary name, then renamed: nobody ever sees the file unlocked
            # (and takes it for a dead worker's) while its owner lives.
            staging = folder / f".{token}.new"
            lease._fd = os.open(staging, os.O_CREAT | os.O_RDWR, 0o644)
            fcntl.flock(lease._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(staging, lease._path)
    else:
        # Outside the pool: this connection lives exactly as long as the worker.
        lease._conn = await db.engine.connect()
        await lease._conn.execute(text("SELECT pg_advisory_lock(:s, :t)"), {"s": LOCK_SPACE, "t": token})
        await lease._conn.commit()
    _local.add(token)
    return lease


async def live_tokens(db: Database, conn: AsyncConnection, candidates: set[int]) -> set[int]:
    """Which of `candidates` belong to live workers."""
    if not candidates:
        return set()
    if not db.is_sqlite:
        rows = await conn.execute(
            text("SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = :s AND objsubid = 2 AND granted"),
            {"s": LOCK_SPACE},
        )
        return {int(r.objid) for r in rows} & candidates
    folder = _lock_dir(db)
    if folder is None:
        return candidates & _local
    alive: set[int] = set()
    for token in candidates:
        if token in _local:
            alive.add(token)
            continue
        path = folder / str(token)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alive.add(token)
        else:  # nobody holds it: its worker died; tidy up
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return alive
