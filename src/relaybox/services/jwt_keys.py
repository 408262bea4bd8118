"""The JWT signing secret and the deployment's audience: where they come from, and what is refused.

The secret is `RELAYBOX_JWT_SECRET` when set, otherwise a random one generated on first start
into a file of its own (mode 0600) in the state directory: beside the SQLite database, or in
the working folder on PostgreSQL (`RELAYBOX_STATE_DIR` overrides both).  It is never stored in
the database, so a copy or backup of the database cannot mint tokens.  Every process of one
deployment finds the same file (the README's PostgreSQL recipe runs its processes in one folder;
across machines, set `RELAYBOX_JWT_SECRET` or share the state directory), and processes starting
at once agree: the file is written whole under a temporary name and linked into place, and a
process that loses that race reads the winner's.

Tokens also carry an audience, the deployment id kept (not secret) in the store's `settings`, so a
token from one deployment is refused by another that happens to share its secret file or
configured secret.
"""

from __future__ import annotations

import os
import secrets
import stat
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from relaybox.config import Settings
from relaybox.services.platform import Platform
from relaybox.store import accounts as accounts_store

#: RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits.
MIN_SECRET_BYTES = 32
SECRET_FILE = "relaybox-jwt.secret"


class SecretError(ValueError):
    """The JWT secret cannot be used; the message is one line, fit for a terminal."""


def check_secret(secret: str, source: str) -> str:
    """`secret` if it is long enough; SecretError naming `source` otherwise."""
    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        raise SecretError(
            f"the JWT secret from {source} is {size} bytes; it must be at least {MIN_SECRET_BYTES} "
            f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return secret


def secret_path(settings: Settings) -> Path:
    """Where the generated secret lives: state_dir, else the SQLite file's folder, else the working folder."""
    if settings.state_dir:
        return Path(settings.state_dir) / SECRET_FILE
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).absolute().parent / SECRET_FILE
    return Path.cwd() / SECRET_FILE


def load_secret(settings: Settings) -> str:
    """The secret to sign with: configured, or read from (first created in) its file.  SecretError if unusable."""
    if settings.jwt_secret is not None:
        return check_secret(settings.jwt_secret, "RELAYBOX_JWT_SECRET")
    path = secret_path(settings)
    try:
        if not path.exists():
            _create(path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretError(f"{path} may be read by other users (mode {mode:04o}); run: chmod 600 {path}")
        return check_secret(path.read_text().strip(), str(path))
    except OSError as exc:
        raise SecretError(f"cannot use the JWT secret file {path}: {exc.strerror or exc}") from None


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # atomic, and never replaces a secret another process put there first
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


async def deployment_id(platform: Platform) -> str:
    """This deployment's id (the JWT audience): made once, kept in the store's settings."""
    async with platform.db.read() as conn:
        known = await accounts_store.get_setting(conn, "deployment_id")
    if known:
        return known
    async with platform.db.write() as conn:
        return await accounts_store.keep_setting(conn, "deployment_id", uuid.uuid4().hex)
