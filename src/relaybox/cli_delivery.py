"""CLI commands for delivery: `connectors`, `smsc`, `webhooks`, `account webhook` (registered by cli.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from relaybox.config import Settings

console = Console()
#: Tables: wide enough for their columns when the output is a pipe or a file, not a terminal.
tables = console if console.is_terminal else Console(width=200)

ConfigOpt = Annotated[
    Optional[str],
    typer.Option("--config", envvar="RELAYBOX_CONFIG", help="relaybox.toml: connectors and routes [env: RELAYBOX_CONFIG]"),
]
DatabaseOpt = Annotated[
    Optional[str],
    typer.Option("--database-url", envvar="RELAYBOX_DATABASE_URL", help="Store URL [env: RELAYBOX_DATABASE_URL]", show_default="sqlite:///relaybox.db"),
]


def _settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def check_config(path: str | None) -> None:
    """Refuse to start with an invalid relaybox.toml: print every problem and exit 2."""
    from relaybox.connectors.config import ConfigError, load

    try:
        load(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer, account_app: typer.Typer) -> None:
    app.command("connectors")(connectors)
    app.command("smsc")(smsc)
    app.command("webhooks")(webhooks)
    account_app.command("webhook")(account_webhook)


def _cell(value) -> str:
    return "" if value is None else str(value)


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def connectors(
    config: ConfigOpt = None,
    database_url: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per connector and engine")] = False,
) -> None:
    """Show each connector: bound or not, submit rate, window, queue depth, counters, last error.

    The state is what the running engines (`serve`, `worker`) published in the
    last seconds; a connector with no running engine shows as not running.
    """
    from relaybox.cli_store import open_store
    from relaybox.connectors.config import BUILTIN, ConfigError, SmppSpec, load
    from relaybox.engine.connector_status import STALE_AFTER
    from relaybox.store import connector_status

    settings = _settings(database_url=database_url, config=config)
    try:
        declared = load(settings.config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None

    async def read():
        platform = await open_store(settings)
        try:
            async with platform.db.read() as conn:
                return await connector_status.read_all(conn), platform.clock()
        finally:
            await platform.db.dispose()

    try:
        states, now = asyncio.run(read())
    except typer.Exit:  # the store is not ready: said in one line already (cli_store.py)
        raise
    except Exception as exc:  # noqa: BLE001 - the store failed on the way: say so plainly
        console.print(f"[red]cannot read the connector status from the store: {exc}[/red]")
        raise typer.Exit(1) from None
    names = [BUILTIN, *declared.connectors]
    names += sorted({s.connector for s in states} - set(names))
    rows = []
    for name in names:
        spec = declared.connectors.get(name)
        kind = spec.type if spec is not None else ("simulator" if name == BUILTIN else "?")
        target = f"{spec.host}:{spec.port}" if isinstance(spec, SmppSpec) else ""
        mine = [s for s in states if s.connector == name]
        if not mine:
            rows.append({"connector": name, "type": kind, "target": target, "engine": None, "bound": None,
                         "state": "no running engine has it"})
        for s in mine:
            stale = now - s.updated_at > STALE_AFTER
            rows.append({
                "connector": name, "type": s.kind, "target": target, "engine": s.worker,
                "bound": s.bound and not stale,
                "state": f"stale: last heard {_age((now - s.updated_at).total_seconds())}" if stale else s.state,
                **s.details,
            })
    if as_json:
        for row in rows:
            print(json.dumps(row, default=str))
        return
    table = Table(title=f"connectors ({declared.source})")
    for column in ("connector", "type", "target", "engine", "bound", "state", "rate/s", "in flight", "queue",
                   "submitted", "receipts", "last error"):
        table.add_column(column)
    for row in rows:
        bound = "" if row["bound"] is None else ("[green]yes[/green]" if row["bound"] else "[red]no[/red]")
        window = f"{row.get('in_flight', 0)}/{row['window']}" if "window" in row else ""
        table.add_row(
            row["connector"], row["type"], row["target"], row["engine"] or "", bound, row["state"],
            str(row.get("rate", "")), window, _cell(row.get("queue", row.get("receipts_pending"))),
            str(row.get("submitted", "")), str(row.get("receipts", "")), row.get("last_error") or "",
        )
    tables.print(table)


def smsc(
    host: Annotated[str, typer.Option("--host", envvar="RELAYBOX_SMSC_HOST", help="Listen address [env: RELAYBOX_SMSC_HOST]")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="RELAYBOX_SMSC_PORT", help="Listen port [env: RELAYBOX_SMSC_PORT]")] = 2775,
    system_id: Annotated[Optional[str], typer.Option("--system-id", envvar="RELAYBOX_SMSC_SYSTEM_ID", help="Only this system_id may bind; any if unset [env: RELAYBOX_SMSC_SYSTEM_ID]")] = None,
    password: Annotated[Optional[str], typer.Option("--password", envvar="RELAYBOX_SMSC_PASSWORD", help="Required bind password; any if unset [env: RELAYBOX_SMSC_PASSWORD]")] = None,
    sim_speed: Annotated[float, typer.Option("--sim-speed", envvar="RELAYBOX_SIM_SPEED", min=0, help="Latency scale; 0 = as fast as possible [env: RELAYBOX_SIM_SPEED]")] = 1.0,
    sim_profile: Annotated[str, typer.Option("--sim-profile", envvar="RELAYBOX_SIM_PROFILE", help="magic (outcomes by last digits) or realistic [env: RELAYBOX_SIM_PROFILE]")] = "magic",
    sim_seed: Annotated[int, typer.Option("--sim-seed", envvar="RELAYBOX_SIM_SEED", help="Seed of the realistic profile [env: RELAYBOX_SIM_SEED]")] = 0,
    throttle_tps: Annotated[float, typer.Option("--throttle-tps", envvar="RELAYBOX_SMSC_THROTTLE_TPS", min=0, help="Answer ESME_RTHROTTLED beyond this many submits per second per session; 0 = never [env: RELAYBOX_SMSC_THROTTLE_TPS]")] = 0.0,
) -> None:
    """Run the SMSC simulator: an SMPP 3.4 server with the simulator's outcome rules (docs/connectors.md)."""
    import signal

    from relaybox.smsc import SmscSimulator

    if sim_profile not in ("magic", "realistic"):
        raise typer.BadParameter("--sim-profile must be magic or realistic")

    async def run() -> SmscSimulator:
        server = SmscSimulator(
            host=host, port=port, system_id=system_id, password=password, speed=sim_speed, profile=sim_profile,
            seed=sim_seed, throttle_tps=throttle_tps, keep_received=False,
        )
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        credentials = f"system_id {system_id!r}" if system_id else "any system_id"
        print(f"relaybox SMSC simulator listening on {host}:{server.port} ({credentials}, speed {sim_speed:g}, "
              f"profile {sim_profile})", flush=True)
        try:
            await stop.wait()
        finally:
            await server.stop()
        return server

    server = asyncio.run(run())
    print(f"binds {server.binds} (refused {server.binds_refused}), duplicates dropped {server.duplicates}, "
          f"rejected {server.rejected}, throttled {server.throttled}, receipts sent {server.receipts_sent}")


def webhooks(
    account_id: Annotated[Optional[int], typer.Option("--account-id", help="Only this account's")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="pending, delivered or failed")] = None,
    message_id: Annotated[Optional[int], typer.Option("--message-id", help="Only this message's")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Newest first, this many")] = 20,
    body: Annotated[bool, typer.Option("--body", help="Show each body too")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Webhook deliveries, newest first: status, attempts, next attempt, last error."""
    from relaybox.cli_store import open_store
    from relaybox.domain.timefmt import format_time
    from relaybox.store.webhook_admin import deliveries

    if status is not None and status not in ("pending", "delivered", "failed"):
        raise typer.BadParameter("--status must be pending, delivered or failed")

    async def read():
        platform = await open_store(_settings(database_url=database_url))
        try:
            async with platform.db.read() as conn:
                return await deliveries(conn, account_id=account_id, status=status, message_id=message_id, limit=limit)
        finally:
            await platform.db.dispose()

    rows = asyncio.run(read())
    table = Table(title="webhook deliveries")
    for column in ("id", "account", "message", "status", "attempts", "next attempt / delivered", "last error", "url"):
        table.add_column(column)
    if body:
        table.add_column("body")
    for d in rows:
        colour = {"delivered": "green", "failed": "red"}.get(d.status, "yellow")
        when = format_time(d.delivered_at) if d.status == "delivered" else ("" if d.status == "failed" else format_time(d.next_attempt_at))
        cells = [str(d.id), str(d.account_id), str(d.message_id or ""), f"[{colour}]{d.status}[/{colour}]",
                 str(d.attempts), when or "", d.last_error or "", d.url]
        if body:
            cells.append(d.payload)
        table.add_row(*cells)
    tables.print(table)


def account_webhook(
    account_id: Annotated[int, typer.Argument(help="The account's id")],
    url: Annotated[Optional[str], typer.Option("--url", help="Default callback URL for messages sent without callback_url")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the default URL")] = False,
    rotate_secret: Annotated[bool, typer.Option("--rotate-secret", help="Replace the signing secret (the old one stops working at once)")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Show or set an account's default webhook URL, and show (or rotate) its signing secret.

    Every webhook carries Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`: verify them with `standardwebhooks.Webhook(<standard_webhooks_secret>)`)
    and `X-Relaybox-Signature: sha256=<HMAC-SHA256 of the body with webhook_secret>`; both are
    keyed by the same secret, shown in two notations.  The URL is checked as a request's
    callback_url is (http/https, no credentials or control characters, no internal address
    unless RELAYBOX_WEBHOOK_ALLOW_NETWORKS allows it).  It applies to messages accepted after it is set.
    """
    from relaybox.cli_store import open_store
    from relaybox.domain.signatures import standard_secret
    from relaybox.store.webhook_admin import configure

    from relaybox.errors import ValidationFailed
    from relaybox.services.accounts import check_account_webhook_url

    async def run():
        platform = await open_store(_settings(database_url=database_url))
        try:
            if url is not None:
                check_account_webhook_url(platform, url)
            async with platform.db.write() as conn:
                return await configure(conn, account_id, url=url, clear_url=clear, rotate=rotate_secret)
        finally:
            await platform.db.dispose()

    try:
        result = asyncio.run(run())
    except ValidationFailed as exc:
        raise typer.BadParameter(exc.errors[0].message, param_hint="--url") from None
    if result is None:
        console.print(f"[red]no account {account_id}[/red]")
        raise typer.Exit(1)
    current_url, secret = result
    print(f"webhook_url: {current_url or '(none)'}")
    print(f"webhook_secret: {secret}")
    print(f"standard_webhooks_secret: {standard_secret(secret)}")

