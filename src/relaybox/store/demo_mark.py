"""Whose a SQLite file is, before `relaybox demo` opens it: the demo writes its public key only into
a database it made itself (marked in `settings`), never into an operator's."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

#: The `settings` row that marks a database made by `relaybox demo`.
MARK = "demo_database"
#: The demo account's key: a test key (simulated traffic, never charged), printed for anyone to use.
DEMO_KEY = "test_" + "demo" * 5 + "Key0000"


def owner(path: str | Path) -> Literal["none", "demo", "other"]:
    """"none": no database there yet; "demo": made by `relaybox demo`; "other": anything else.

    Read only, so looking changes nothing.  A database made by a
    demo older than the mark counts as the demo's when its only account holds the demo key.
    """
    from relaybox.store.accounts import hash_key

    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return "none"
    # Without a -wal file the main file holds everything, and `immutable` reads it without creating
    # the -wal and -shm files that even a read-only open of a WAL database makes; with one, those exist.
    wal = path.with_name(path.name + "-wal").exists()
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?{'mode=ro' if wal else 'immutable=1'}", uri=True)
    except sqlite3.Error:
        return "other"
    try:
        if conn.execute("SELECT 1 FROM settings WHERE key = ?", (MARK,)).fetchone():
            return "demo"
        accounts = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        holds_key = conn.execute("SELECT 1 FROM api_keys WHERE key_hash = ?", (hash_key(DEMO_KEY),)).fetchone()
        return "demo" if accounts == 1 and holds_key else "other"
    except sqlite3.Error:  # not a relaybox database, or not a database at all
        return "other"
    finally:
        conn.close()
