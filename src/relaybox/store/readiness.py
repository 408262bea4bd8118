"""Is a store ready for the commands that use it but do not create it (`relaybox key`, `account`,
`webhooks`, `connectors`, …)?  Ready means: it exists, it answers, and its schema is at the
newest migration this relaybox has.  Only `relaybox migrate` (and `serve`, `worker`, `demo`, which
migrate on start) create or upgrade a store, so a mistyped URL or a forgotten migration is reported
in one line instead of leaving an empty database behind.

The check itself creates and changes nothing: a SQLite file is opened read-only, and only if it
exists (SQLite would otherwise create it); a PostgreSQL database is only read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from relaybox.store.migrate import alembic_config

#: What every message ends with: the two ways out.
WHAT_TO_DO = "run `relaybox migrate` to create or upgrade it, or pass --database-url (or RELAYBOX_DATABASE_URL)"


class StoreNotReady(Exception):
    """The store is missing, unreachable, not relaybox's, or behind: `str()` is one line saying which."""


def shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is printed as given: it carries no parsable password
        return url


def head_revision() -> str:
    """The newest migration of this relaybox (store/migrations/versions)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every Alembic revision this code ships."""
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def sqlite_revision(path: str) -> str | None:
    """The migration a SQLite file is at (None: no relaybox tables). Raises StoreNotReady when the
    file is missing or not a SQLite database."""
    if not path or path == ":memory:":
        raise StoreNotReady(f"an in-memory SQLite database has no relaybox tables: {WHAT_TO_DO}")
    file = Path(path)
    if not file.is_file():
        raise StoreNotReady(f"no database at {path}: {WHAT_TO_DO}")
    try:
        conn = sqlite3.connect(f"file:{quote(str(file.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreNotReady(f"cannot open {path}: {exc}") from None
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise StoreNotReady(f"cannot read {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        raise StoreNotReady(f"{path} is not a SQLite database ({exc}): {WHAT_TO_DO}") from None
    except TypeError:  # the table is there but empty
        return None
    finally:
        conn.close()


async def postgresql_revision(url: str, *, advice: str = WHAT_TO_DO) -> str | None:
    """The migration a PostgreSQL database is at (None: no relaybox tables). Raises StoreNotReady
    when the server does not answer or the database does not exist (`advice` ends that message)."""
    import asyncpg

    parsed = make_url(url)
    try:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        raise StoreNotReady(f"database {parsed.database!r} does not exist on {parsed.host or 'localhost'}: "
                            f"create it (createdb), then {advice}") from None
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StoreNotReady(f"cannot connect to {shown(url)}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    try:
        if await conn.fetchval("SELECT to_regclass('alembic_version')") is None:
            return None
        return await conn.fetchval("SELECT version_num FROM alembic_version LIMIT 1")
    finally:
        await conn.close()


async def require_ready(url: str) -> None:
    """Raise StoreNotReady (one line) unless the store at `url` exists, answers, and is at the
    newest migration."""
    try:
        parsed = make_url(url)
    except Exception:
        raise StoreNotReady(f"{url!r} is not a database URL (sqlite:///FILE or postgresql://…)") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        revision = sqlite_revision(parsed.database or "")
    elif backend in ("postgresql", "postgres"):
        revision = await postgresql_revision(url)
    else:
        raise StoreNotReady(f"unsupported database {backend!r} in {shown(url)} (use sqlite:/// or postgresql://)")
    head = head_revision()
    if revision is None:
        raise StoreNotReady(f"{shown(url)} has no relaybox tables: {WHAT_TO_DO}")
    if revision != head:
        if revision not in known_revisions():
            raise StoreNotReady(f"{shown(url)} is at revision {revision}, which this relaybox does not know "
                                f"(its newest is {head}): use the relaybox that migrated it")
        raise StoreNotReady(f"{shown(url)} is at revision {revision}, this relaybox needs {head}: "
                            "run `relaybox migrate`")
