"""CLI commands for keys and accounts: `key create|list|revoke|rotate`, `account list|block|unblock|top-up|ledger`
(registered by cli.py).

They change the store only (services/admin.py); a running server sees each change within
`RELAYBOX_AUTH_CACHE_SECONDS` (5 s), in every process.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from datetime import timedelta
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from relaybox.cli_delivery import DatabaseOpt, _settings
from relaybox.domain.models import ApiKey
from relaybox.domain.money import format_amount, parse_exact_amount
from relaybox.domain.timefmt import format_time

key_app = typer.Typer(help="Manage API keys: create, list, revoke, rotate.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
#: Tables: wide enough for their columns when the output is a pipe or a file, not a terminal.
tables = console if console.is_terminal else Console(width=200)

KeyRef = Annotated[str, typer.Argument(help="The key's id (see `relaybox key list`) or the key itself")]
AccountArg = Annotated[int, typer.Argument(help="The account's id (see `relaybox account list`)")]


def register(app: typer.Typer, account_app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
    account_app.command("list")(account_list)
    account_app.command("block")(account_block)
    account_app.command("unblock")(account_unblock)
    account_app.command("top-up")(account_top_up)
    account_app.command("ledger")(account_ledger)


def _run(database_url: str | None, work):
    """Run `work(platform)` on the store; the services' errors become one red line and exit 1 or 2."""
    from relaybox.cli_store import open_store
    from relaybox.errors import NotFound, ValidationFailed

    async def run():
        platform = await open_store(_settings(database_url=database_url))
        try:
            return await work(platform)
        finally:
            await platform.db.dispose()

    try:
        return asyncio.run(run())
    except ValidationFailed as exc:
        errors.print(f"[red]{exc.errors[0].message}[/red]", highlight=False)
        raise typer.Exit(2) from None
    except NotFound as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None


def _time(value) -> str:
    return format_time(value) if value is not None else ""


def _key_state(key: ApiKey, now) -> str:
    if key.revoked_at is None:
        return "active"
    return f"until {_time(key.revoked_at)}" if key.revoked_at > now else "revoked"


@key_app.command("create")
def key_create(
    account: Annotated[int, typer.Option("--account", help="The account's id")],
    mode: Annotated[str, typer.Option("--mode", help="live (charged, routed) or test (simulated, never charged)")] = "live",
    label: Annotated[Optional[str], typer.Option("--label", help="A name for the key, shown by `key list`")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create an API key for an account; the key is printed as the last line, and only this once."""
    from relaybox.services.admin import create_key

    record, key = _run(database_url, lambda p: create_key(p, account, mode=mode, label=label))
    console.print(f"key {record.id} created for account {account} ({record.mode}{', ' + label if label else ''})",
                  highlight=False)
    print(key)


@key_app.command("list")
def key_list(
    account: Annotated[Optional[int], typer.Option("--account", help="Only this account's keys")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """List keys: id, account, mode, label, the key's first and last characters, created, state."""
    from relaybox.domain.timefmt import utcnow
    from relaybox.services.admin import list_keys

    keys = _run(database_url, lambda p: list_keys(p, account_id=account, include_revoked=show_all))
    now = utcnow()
    table = Table(title="API keys" + (f" of account {account}" if account is not None else ""))
    for column in ("id", "account", "mode", "label", "key", "created", "state"):
        table.add_column(column, justify="right" if column in ("id", "account") else "left", no_wrap=column == "key")
    for key in keys:
        table.add_row(str(key.id), str(key.account_id), key.mode, key.label or "", key.shown, _time(key.created_at),
                      _key_state(key, now))
    tables.print(table)


@key_app.command("revoke")
def key_revoke(ref: KeyRef, database_url: DatabaseOpt = None) -> None:
    """Revoke a key now: it, and every JWT issued for it, stop working within the auth cache time (5 s)."""
    from relaybox.services.admin import find_key, revoke_key

    async def work(platform):
        return await revoke_key(platform, await find_key(platform, ref))

    key = _run(database_url, work)
    console.print(f"key {key.id} ({key.shown}) of account {key.account_id} revoked at {_time(key.revoked_at)}",
                  highlight=False)


@key_app.command("rotate")
def key_rotate(
    ref: KeyRef,
    grace: Annotated[int, typer.Option("--grace", min=0, help="Seconds the old key keeps working, for clients to switch (0: revoked at once)")] = 0,
    database_url: DatabaseOpt = None,
) -> None:
    """Replace a key: a new key for the same account, mode and label; the old one is revoked, at once or
    after --grace seconds (its JWTs with it).  The new key is printed as the last line."""
    from relaybox.services.admin import find_key, rotate_key

    async def work(platform):
        return await rotate_key(platform, await find_key(platform, ref), grace=timedelta(seconds=grace))

    old, new, key = _run(database_url, work)
    console.print(f"key {new.id} replaces key {old.id} of account {old.account_id}; key {old.id} stops at "
                  f"{_time(old.revoked_at)}", highlight=False)
    print(key)


def account_list(database_url: DatabaseOpt = None) -> None:
    """List accounts: id, name, status, currency, balance, credit, active keys, created."""
    from relaybox.services.admin import list_accounts

    summaries = _run(database_url, list_accounts)
    table = Table(title="accounts")
    for column in ("id", "name", "status", "currency", "balance", "credit", "keys", "created"):
        table.add_column(column, justify="right" if column in ("id", "balance", "credit", "keys") else "left")
    for s in summaries:
        a = s.account
        table.add_row(str(a.id), a.name, a.status, a.currency, format_amount(a.balance), format_amount(a.credit),
                      str(s.active_keys), _time(s.created_at))
    tables.print(table)


def _set_blocked(account_id: int, blocked: bool, database_url: str | None) -> None:
    from relaybox.services.admin import set_blocked

    _run(database_url, lambda p: set_blocked(p, account_id, blocked))
    console.print(f"account {account_id} {'blocked' if blocked else 'unblocked'}", highlight=False)


def account_block(account_id: AccountArg, database_url: DatabaseOpt = None) -> None:
    """Block an account: its keys and JWTs are refused (legacy error 2, One API 401) within 5 s; nothing is deleted."""
    _set_blocked(account_id, True, database_url)


def account_unblock(account_id: AccountArg, database_url: DatabaseOpt = None) -> None:
    """Unblock an account: its working keys and their JWTs are accepted again within 5 s."""
    _set_blocked(account_id, False, database_url)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def account_top_up(
    account_id: AccountArg,
    amount: Annotated[str, typer.Argument(help="Exact amount in the account's currency, e.g. 25 or 12.50 (at most 7 decimals)")],
    note: Annotated[Optional[str], typer.Option("--note", help="Why, recorded in the ledger")] = None,
    by: Annotated[Optional[str], typer.Option("--by", envvar="RELAYBOX_OPERATOR", help="Who is making the change, recorded in the ledger (default: the OS user) [env: RELAYBOX_OPERATOR]")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Add money to an account's balance, exactly, and record it in the ledger (who, when, amount, balance after)."""
    from relaybox.services.admin import top_up

    try:
        value = parse_exact_amount(amount)
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    entry = _run(database_url, lambda p: top_up(p, account_id, value, actor=by or _operator(), note=note))
    console.print(f"account {account_id}: +{format_amount(entry.amount)}, balance {format_amount(entry.balance_after)} "
                  f"(ledger entry {entry.id})", highlight=False)


def account_ledger(
    account_id: AccountArg,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many entries, newest first")] = 50,
    database_url: DatabaseOpt = None,
) -> None:
    """Show an account's balance changes made by operators, newest first."""
    from relaybox.services.admin import ledger_entries

    entries = _run(database_url, lambda p: ledger_entries(p, account_id, limit))
    table = Table(title=f"ledger of account {account_id}")
    for column in ("id", "when", "kind", "amount", "balance after", "by", "note"):
        table.add_column(column, justify="right" if column in ("id", "amount", "balance after") else "left")
    for e in entries:
        table.add_row(str(e.id), _time(e.created_at), e.kind, format_amount(e.amount), format_amount(e.balance_after),
                      e.actor, e.note or "")
    tables.print(table)
