"""CLI commands for inbound (two-way) SMS: `relaybox inbound ...` (registered by cli.py).

Operator commands: they talk to the store (RELAYBOX_DATABASE_URL), not to the HTTP API.
docs/inbound.md documents them.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from relaybox.cli_delivery import DatabaseOpt, _settings
from relaybox.domain.timefmt import format_time

console = Console()
tables = console if console.is_terminal else Console(width=200)

inbound_app = typer.Typer(help="Inbound (two-way) SMS: inject replies, two-way numbers, the inbound webhook, stats")
numbers_app = typer.Typer(help="Two-way numbers: an inbound message sent to one belongs to its account")
inbound_app.add_typer(numbers_app, name="numbers")

AccountOpt = Annotated[int, typer.Option("--account", help="The account's id")]


def register(app: typer.Typer) -> None:
    app.add_typer(inbound_app, name="inbound")


def _run(work, database_url: str | None):
    """Run `work(platform)` against the store; a service's refusal is a usage error."""
    from relaybox.cli_store import open_store
    from relaybox.errors import NotFound, ValidationFailed

    async def run():
        platform = await open_store(_settings(database_url=database_url))  # never creates one (cli_store.py)
        try:
            return await work(platform)
        finally:
            await platform.db.dispose()

    try:
        return asyncio.run(run())
    except ValidationFailed as exc:
        error = exc.errors[0]
        raise typer.BadParameter(error.message, param_hint=error.path) from None
    except NotFound:
        console.print("[red]no such account[/red]")
        raise typer.Exit(1) from None



@inbound_app.command("inject")
def inject(
    sender: Annotated[str, typer.Option("--from", help="The subscriber's MSISDN (digits, optional +)")],
    recipient: Annotated[str, typer.Option("--to", help="The number or sender name the reply is sent to")],
    text: Annotated[str, typer.Option("--text", help="The message")],
    database_url: DatabaseOpt = None,
) -> None:
    """Inject a mobile-originated message as if the simulated network had delivered it.

    It is routed, stop-listed and pushed to the inbound webhook exactly as one from a connector.
    """
    from relaybox.services import inbound

    stored = _run(lambda p: inbound.inject(p, sender=sender, recipient=recipient, text=text), database_url)
    for m in stored:
        owner = f"account {m.account_id} ({m.route})" if m.account_id is not None else "no account (unroutable)"
        action = f", {m.action}" if m.action else ""
        print(f"inbound {m.id}: from {m.sender} to {m.recipient}: {owner}{action}")


@numbers_app.command("add")
def numbers_add(number: Annotated[str, typer.Argument(help="3 to 15 digits, optional +")], account: AccountOpt,
                database_url: DatabaseOpt = None) -> None:
    """Give a two-way number to an account (refused if another account has it)."""
    from relaybox.services import inbound

    added = _run(lambda p: inbound.add_number(p, account, number), database_url)
    print(f"two-way number {added}: account {account}")


@numbers_app.command("remove")
def numbers_remove(number: Annotated[str, typer.Argument()], account: AccountOpt, database_url: DatabaseOpt = None) -> None:
    """Take a two-way number from an account."""
    from relaybox.services import inbound

    if not _run(lambda p: inbound.remove_number(p, account, number), database_url):
        console.print(f"[red]account {account} has no two-way number {number}[/red]")
        raise typer.Exit(1)
    print(f"two-way number {number} removed from account {account}")


@numbers_app.command("list")
def numbers_list(account: Annotated[Optional[int], typer.Option("--account", help="Only this account's")] = None,
                 database_url: DatabaseOpt = None) -> None:
    """The two-way numbers and their accounts."""
    from relaybox.store import inbound as store

    async def work(platform):
        async with platform.db.read() as conn:
            return await store.numbers(conn, account)

    table = Table(title="two-way numbers")
    for column in ("number", "account", "since"):
        table.add_column(column)
    for number, account_id, since in _run(work, database_url):
        table.add_row(number, str(account_id), format_time(since))
    tables.print(table)


@inbound_app.command("webhook")
def webhook(
    account: AccountOpt,
    url: Annotated[Optional[str], typer.Option("--url", help="Where the account's inbound messages are POSTed")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Push inbound messages nowhere")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Show or set an account's inbound webhook URL (signed with the account's webhook secret:
    `relaybox account webhook ID` shows it)."""
    from relaybox.services import inbound


    async def work(platform):
        if url is not None or clear:
            await inbound.set_webhook(platform, account, None if clear else url)
        return await inbound.webhook(platform, account)

    current = _run(work, database_url)
    print(f"inbound_webhook_url: {current or '(none)'}")


@inbound_app.command("stats")
def stats(
    unroutable: Annotated[int, typer.Option("--unroutable", help="Also list the latest N unroutable messages")] = 0,
    database_url: DatabaseOpt = None,
) -> None:
    """Counts: inbound messages routed to an account, unroutable ones (kept, shown to no tenant),
    STOP replies, and parts of concatenated messages waiting for the rest of their set."""
    from relaybox.store import inbound as store

    async def work(platform):
        async with platform.db.read() as conn:
            return await store.stats(conn), await store.unroutable(conn, unroutable) if unroutable else []

    counts, rows = _run(work, database_url)
    for name, value in counts.items():
        print(f"{name}: {value}")
    if rows:
        table = Table(title="unroutable inbound messages")
        for column in ("id", "received", "from", "to", "connector", "text"):
            table.add_column(column)
        for m in rows:
            table.add_row(str(m.id), format_time(m.received_at), m.sender, m.recipient, m.connector, m.text[:60])
        tables.print(table)
