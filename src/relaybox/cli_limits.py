"""`relaybox account limits`: an account's rate limits (services/rate_limits.py), and the
options `account create` shares with it."""

from __future__ import annotations

import asyncio
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from relaybox.config import Settings

console = Console()

DatabaseOpt = Annotated[
    Optional[str], typer.Option("--database-url", envvar="RELAYBOX_DATABASE_URL", help="Store URL [env: RELAYBOX_DATABASE_URL]", show_default="sqlite:///relaybox.db")
]
RequestsPerSecondOpt = Annotated[
    Optional[int], typer.Option("--requests-per-second", min=0, help="Authenticated requests per second (0: no limit; default: RELAYBOX_RATE_REQUESTS_PER_SECOND)")
]
RequestsBurstOpt = Annotated[
    Optional[int], typer.Option("--requests-burst", min=0, help="Requests at once above the rate (default: RELAYBOX_RATE_REQUESTS_BURST)")
]
MessagesPerSecondOpt = Annotated[
    Optional[int], typer.Option("--messages-per-second", min=0, help="Messages accepted per second (0: no limit; default: RELAYBOX_RATE_MESSAGES_PER_SECOND)")
]
MessagesBurstOpt = Annotated[
    Optional[int], typer.Option("--messages-burst", min=0, help="Messages at once above the rate, e.g. one large campaign (default: RELAYBOX_RATE_MESSAGES_BURST)")
]


def limit_values(requests_per_second, requests_burst, messages_per_second, messages_burst) -> dict[str, int]:
    """The limit columns (store/rate_limits.py) of the options that were given."""
    given = {
        "rate_requests_per_second": requests_per_second,
        "rate_requests_burst": requests_burst,
        "rate_messages_per_second": messages_per_second,
        "rate_messages_burst": messages_burst,
    }
    return {k: v for k, v in given.items() if v is not None}


async def set_limits(platform, account_id: int, values: dict[str, int | None]) -> bool:
    """Store an account's own limits; False when there is no such account."""
    from relaybox.store import rate_limits as store

    async with platform.db.write() as conn:
        return await store.set_limits(conn, account_id, values)


def register(account_app: typer.Typer) -> None:
    @account_app.command("limits")
    def account_limits(
        account_id: Annotated[int, typer.Argument(help="Account id")],
        requests_per_second: RequestsPerSecondOpt = None,
        requests_burst: RequestsBurstOpt = None,
        messages_per_second: MessagesPerSecondOpt = None,
        messages_burst: MessagesBurstOpt = None,
        default: Annotated[bool, typer.Option("--default", help="Forget the account's own limits: the platform defaults apply")] = False,
        database_url: DatabaseOpt = None,
    ) -> None:
        """Show or set an account's rate limits; every API process applies a change within a second."""
        from relaybox.cli_store import open_store
        from relaybox.services.rate_limits import MESSAGES, REQUESTS, Defaults
        from relaybox.store import rate_limits as store

        values = limit_values(requests_per_second, requests_burst, messages_per_second, messages_burst)
        if default:
            values = {name: None for name in store.LIMIT_COLUMNS} | values
        settings = Settings(**({"database_url": database_url} if database_url else {}))

        async def run():
            platform = await open_store(settings)
            try:
                if values and not await set_limits(platform, account_id, values):
                    return None
                async with platform.db.read() as conn:
                    own = (await store.account_limits(conn, [account_id])).get(account_id)
                    used = await store.consumed(conn, account_id)
                return own, used
            finally:
                await platform.db.dispose()

        found = asyncio.run(run())
        if found is None or found[0] is None:
            console.print(f"[red]no account {account_id}[/red]")
            raise typer.Exit(2)
        own, used = found
        s = settings
        effective = Defaults(s.rate_requests_per_second, s.rate_requests_burst, s.rate_messages_per_second,
                             s.rate_messages_burst).limits(own)
        table = Table(title=f"account {account_id} rate limits")
        for column in ("bucket", "per second", "burst", "own setting", "spent so far"):
            table.add_column(column)
        for kind, rate, burst in ((REQUESTS, own.requests_per_second, own.requests_burst),
                                  (MESSAGES, own.messages_per_second, own.messages_burst)):
            limit = effective[kind]
            table.add_row(
                kind, "no limit" if limit.unlimited else f"{limit.rate:g}", "" if limit.unlimited else f"{limit.burst:g}",
                "default" if rate is None and burst is None else f"{_or_default(rate)} / {_or_default(burst)}",
                str(used.get(kind, 0)),
            )
        console.print(table)


def _or_default(value: int | None) -> str:
    return "default" if value is None else str(value)
