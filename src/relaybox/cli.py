"""The `relaybox` command."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer
from rich.console import Console

from relaybox import cli_admin, cli_contacts, cli_delivery, cli_inbound, cli_limits, cli_people, serving
from relaybox.cli_delivery import ConfigOpt, check_config
from relaybox.config import Settings

app = typer.Typer(help="relaybox: self-hosted SMS and RCS messaging with a BSG-compatible API.", no_args_is_help=True)
account_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(account_app, name="account")
console = Console()

DatabaseOpt = Annotated[
    Optional[str], typer.Option("--database-url", envvar="RELAYBOX_DATABASE_URL", help="Store URL [env: RELAYBOX_DATABASE_URL]", show_default="sqlite:///relaybox.db")
]
HostOpt = Annotated[Optional[str], typer.Option("--host", envvar="RELAYBOX_HOST", help="Listen address [env: RELAYBOX_HOST]", show_default="127.0.0.1")]
PortOpt = Annotated[Optional[int], typer.Option("--port", envvar="RELAYBOX_PORT", help="Listen port [env: RELAYBOX_PORT]", show_default="8000")]
SpeedOpt = Annotated[
    Optional[float], typer.Option("--sim-speed", envvar="RELAYBOX_SIM_SPEED", help="Simulator time scale; 0 = as fast as possible [env: RELAYBOX_SIM_SPEED]", show_default="1.0")
]
ProfileOpt = Annotated[
    Optional[str], typer.Option("--sim-profile", envvar="RELAYBOX_SIM_PROFILE", help="magic (outcomes by last digits) or realistic [env: RELAYBOX_SIM_PROFILE]", show_default="magic")
]
NetworkOpt = Annotated[
    Optional[str], typer.Option("--sim-network", envvar="RELAYBOX_SIM_NETWORK", help="database (one simulated network shared by all workers, surviving their crashes) or memory (per process, lost with it; for quick tests) [env: RELAYBOX_SIM_NETWORK]", show_default="database")
]
LogLevelOpt = Annotated[str, typer.Option("--log-level", envvar="RELAYBOX_LOG_LEVEL", help="[env: RELAYBOX_LOG_LEVEL]")]
LogFormatOpt = Annotated[
    Optional[str], typer.Option("--log-format", envvar="RELAYBOX_LOG_FORMAT", help="text, or json: one JSON object a line; both carry the request id [env: RELAYBOX_LOG_FORMAT]", show_default="text")
]
MetricsOpt = Annotated[
    Optional[bool], typer.Option("--metrics/--no-metrics", envvar="RELAYBOX_METRICS", help="Serve Prometheus metrics at /metrics [env: RELAYBOX_METRICS]", show_default="on")
]
MetricsListenOpt = Annotated[
    Optional[str], typer.Option("--metrics-listen", envvar="RELAYBOX_METRICS_LISTEN", help="host:port of a listener of its own for /metrics, off the API's port; empty: on the API's port [env: RELAYBOX_METRICS_LISTEN]", show_default="")
]


def start_observability(settings: Settings, *, child: bool = False) -> None:
    """Logging in the chosen format, and metrics for this process and its children: a fresh
    multiprocess folder (observability/metrics.py) and, if asked, the /metrics listener.  `child`:
    a process `serve` started, which inherits its parent's folder and leaves the listener to it."""
    from relaybox.observability import logs, metrics

    logs.configure(settings.log_level, settings.log_format)
    if not settings.metrics or (child and os.environ.get(metrics.MULTIPROC_ENV)):
        return
    folder = metrics.prepare_multiprocess(settings.metrics_dir)
    if not settings.metrics_dir:
        import atexit

        atexit.register(metrics.remove_multiprocess_dir, folder)
    if settings.metrics_listen:
        from relaybox.observability.endpoint import start_listener

        start_listener(settings)


def settings_from(**overrides) -> Settings:
    """Environment first, then the flags that were given."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def check_secret(settings: Settings, *, configured_only: bool = False) -> None:
    """Refuse to start with a JWT secret under 32 bytes (or an unusable secret file): one line, exit 2."""
    from relaybox.services.jwt_keys import SecretError, check_secret as check_length, load_secret

    try:
        if configured_only:  # a process that signs nothing: only what it was given is checked
            if settings.jwt_secret is not None:
                check_length(settings.jwt_secret, "RELAYBOX_JWT_SECRET")
        else:
            load_secret(settings)
    except SecretError as exc:
        typer.echo(f"relaybox: {exc}", err=True)
        raise typer.Exit(2) from None


def _parse_amount(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{name} must be a number") from None


@app.command()
def serve(
    host: HostOpt = None,
    port: PortOpt = None,
    database_url: DatabaseOpt = None,
    sim_speed: SpeedOpt = None,
    sim_profile: ProfileOpt = None,
    sim_network: NetworkOpt = None,
    no_engine: Annotated[bool, typer.Option("--no-engine", help="Serve the API only; run no delivery engine (run `relaybox worker`s) [env: RELAYBOX_ENGINE=false]")] = False,
    workers: Annotated[int, typer.Option("--workers", envvar="RELAYBOX_WORKERS", min=1, help="API processes sharing the port; more than 1 needs PostgreSQL to be useful [env: RELAYBOX_WORKERS]")] = 1,
    jwt_secret: Annotated[Optional[str], typer.Option("--jwt-secret", envvar="RELAYBOX_JWT_SECRET", help="JWT signing secret [env: RELAYBOX_JWT_SECRET]")] = None,
    log_level: LogLevelOpt = "warning",
    config: ConfigOpt = None,
    engine_in_process: Annotated[bool, typer.Option("--engine-in-process", help="Run the engine on the API's event loop instead of in a child process (one core for both) [env: RELAYBOX_ENGINE_PROCESS=false]")] = False,
    header_timeout: Annotated[Optional[float], typer.Option("--header-timeout", envvar="RELAYBOX_HEADER_TIMEOUT_SECONDS", min=0.1, help="Seconds a connection has to send a whole request head before it is closed [env: RELAYBOX_HEADER_TIMEOUT_SECONDS]", show_default="5")] = None,
    keep_alive: Annotated[Optional[float], typer.Option("--keep-alive", envvar="RELAYBOX_KEEP_ALIVE_SECONDS", min=0.1, help="Seconds an idle keep-alive connection is kept [env: RELAYBOX_KEEP_ALIVE_SECONDS]", show_default="5")] = None,
    max_connections: Annotated[Optional[int], typer.Option("--max-connections", envvar="RELAYBOX_MAX_CONNECTIONS", min=1, help="Open connections per API process; past it the longest-idle one is closed [env: RELAYBOX_MAX_CONNECTIONS]", show_default="1000")] = None,
    log_format: LogFormatOpt = None,
    metrics: MetricsOpt = None,
    metrics_listen: MetricsListenOpt = None,
) -> None:
    """Run the HTTP API and (unless --no-engine) the delivery engine, in a child process of its own."""
    import uvicorn

    from relaybox.api import connections
    from relaybox.api.app import create_app

    overrides = dict(
        host=host, port=port, database_url=database_url, sim_speed=sim_speed, sim_profile=sim_profile,
        sim_network=sim_network, jwt_secret=jwt_secret, engine=False if no_engine else None, log_level=log_level,
        config=config, header_timeout_seconds=header_timeout, keep_alive_seconds=keep_alive,
        max_connections=max_connections, log_format=log_format, metrics=metrics, metrics_listen=metrics_listen,
    )
    if workers == 1:
        # one API process: its engine in a child (engine/engine_process.py), unless asked otherwise
        overrides["engine_process"] = False if engine_in_process else os.environ.get("RELAYBOX_ENGINE_PROCESS", "true")
    settings = settings_from(**overrides)
    check_config(settings.config)
    sock = serving.bind(settings.host, settings.port, "serve")  # a busy port: one line, exit 1
    check_secret(settings)
    # relaybox's own log lines (the engine child's deaths and restarts among them) with a time, a
    # source and the request id, as text or JSON; and the metrics folder its processes share
    start_observability(settings)
    listening = f"relaybox serve listening on {serving.url_of(settings.host, settings.port)}"
    if workers == 1:
        server = serving.AnnouncingServer(uvicorn.Config(
            create_app(settings, tune_gc=True), host=settings.host, port=settings.port, log_level=settings.log_level,
            access_log=False, log_config=None, **connections.uvicorn_options(settings)), listening)
        server.run(sockets=[sock])
        if not server.started:
            raise typer.Exit(1)
        return
    # Worker processes build their own app from the environment: hand the flags down through it.
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"RELAYBOX_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    sock.close()  # the port was free a moment ago; uvicorn's supervisor binds it for its processes
    print(f"{listening} ({workers} API processes)", flush=True)
    uvicorn.run("relaybox.api.app:create_app_from_env", factory=True, workers=workers, host=settings.host,
                port=settings.port, log_level=settings.log_level, access_log=False, log_config=None,
                **connections.uvicorn_options(settings))


@app.command()
def worker(
    database_url: DatabaseOpt = None,
    sim_speed: SpeedOpt = None,
    sim_profile: ProfileOpt = None,
    sim_network: NetworkOpt = None,
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", envvar="RELAYBOX_ENGINE_CONCURRENCY", min=1, help="Submit batches in flight with each connector at once [env: RELAYBOX_ENGINE_CONCURRENCY]", show_default="8")] = None,
    log_level: LogLevelOpt = "warning",
    config: ConfigOpt = None,
    log_format: LogFormatOpt = None,
    metrics: MetricsOpt = None,
    metrics_listen: MetricsListenOpt = None,
) -> None:
    """Run the delivery engine only, no HTTP: run several, beside `serve --no-engine`, on PostgreSQL.

    Claims due messages (FOR UPDATE SKIP LOCKED), submits them, records results and
    receipts, expires, finishes campaigns, sends webhooks, and resubmits the in-doubt
    messages of workers that died.  Stops cleanly on SIGTERM or Ctrl+C.
    """
    import signal

    from relaybox.api.app import build_engine, open_platform
    from relaybox import gc_tuning
    from relaybox.engine import engine_process

    settings = settings_from(
        database_url=database_url, sim_speed=sim_speed, sim_profile=sim_profile, sim_network=sim_network,
        engine_concurrency=concurrency, log_level=log_level, config=config, log_format=log_format, metrics=metrics,
        metrics_listen=metrics_listen,
    )
    check_config(settings.config)
    check_secret(settings, configured_only=True)
    start_observability(settings, child=bool(os.environ.get("RELAYBOX_PARENT_PID")))

    async def run() -> None:
        platform = await open_platform(settings, engine_only=True)
        engine = build_engine(platform)
        engine.listen = True  # PostgreSQL: the API processes announce due messages (store/wakeups.py)
        # no API in this process to wake it: on SQLite it looks often; on PostgreSQL the
        # announcements wake it and its own looks only catch what they missed
        engine.idle_poll = WORKER_IDLE_POLL if platform.db.is_sqlite else LISTENING_IDLE_POLL
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await engine.start()
        gc_tuning.tune_for_batches()  # after start: what is alive now is kept out of the collector's way
        print(f"relaybox worker {engine.lease.tag} running (pid {os.getpid()})", flush=True)
        watch = asyncio.create_task(engine_process.exit_with_parent(stop))  # when started by `serve`
        try:
            await stop.wait()
        finally:
            watch.cancel()
            await engine.stop()
            await platform.db.dispose()

    asyncio.run(run())


#: A worker beside separate API processes on SQLite is not woken by their sends: it looks this often.
WORKER_IDLE_POLL = 0.05
#: On PostgreSQL it is woken (store/wakeups.py) and looks on its own only this often.
LISTENING_IDLE_POLL = 0.25


@app.command()
def migrate(database_url: DatabaseOpt = None) -> None:
    """Create the database's tables or upgrade them to this relaybox's newest migration, and load
    the default price list into an empty store; says which revision it went from and to."""
    from sqlalchemy.exc import SQLAlchemyError

    from relaybox.services.platform import migrate_store
    from relaybox.store.db import Database
    from relaybox.store.readiness import StoreNotReady, postgresql_revision, shown

    url = settings_from(database_url=database_url).database_url

    async def run() -> tuple[str | None, str]:
        if not url.startswith("sqlite"):  # a missing database or server: StoreNotReady, one line
            await postgresql_revision(url, advice="run `relaybox migrate` again")
        elif (folder := Path(url.partition(":///")[2]).parent) and not folder.is_dir():
            raise StoreNotReady(f"cannot create {url.partition(':///')[2]}: there is no folder {folder}")
        db = Database(url, pool_size=1)
        try:
            return await migrate_store(db)
        finally:
            await db.dispose()

    try:
        before, after = asyncio.run(run())
    except (StoreNotReady, SQLAlchemyError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"relaybox migrate: {reason}", err=True)
        raise typer.Exit(1) from None
    where = shown(url)
    if before == after:
        print(f"{where}: already at revision {after}, the newest; nothing to do")
    elif before is None:
        print(f"{where}: created relaybox's tables, from an empty database to revision {after}")
    else:
        print(f"{where}: upgraded from revision {before} to revision {after}")


@account_app.command("create")
def account_create(
    name: Annotated[str, typer.Option("--name", help="Account name")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 currency")] = "EUR",
    balance: Annotated[str, typer.Option("--balance", help="Starting balance")] = "100",
    credit: Annotated[str, typer.Option("--credit", help="Credit limit: how far the balance may go below zero")] = "0",
    api_key: Annotated[Optional[str], typer.Option("--api-key", help="Use this key (live_… or test_…) instead of a generated one")] = None,
    webhook_url: Annotated[Optional[str], typer.Option("--webhook-url", help="Where status and RCS click callbacks go when a request gives no callback_url")] = None,
    requests_per_second: cli_limits.RequestsPerSecondOpt = None,
    requests_burst: cli_limits.RequestsBurstOpt = None,
    messages_per_second: cli_limits.MessagesPerSecondOpt = None,
    messages_burst: cli_limits.MessagesBurstOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Create an account in a migrated store (`relaybox migrate`); the API key is printed as the last line."""
    from relaybox.cli_store import open_store
    from relaybox.errors import ValidationFailed
    from relaybox.services.accounts import create_account

    async def run() -> tuple[int, str]:
        platform = await open_store(settings_from(database_url=database_url))
        try:
            created = await create_account(
                platform, name=name, currency=currency, balance=_parse_amount(balance, "--balance"),
                credit=_parse_amount(credit, "--credit"), api_key=api_key, webhook_url=webhook_url,
            )
            limits = cli_limits.limit_values(requests_per_second, requests_burst, messages_per_second, messages_burst)
            if limits:
                await cli_limits.set_limits(platform, created[0], limits)
            return created
        finally:
            await platform.db.dispose()

    try:
        account_id, key = asyncio.run(run())
    except ValidationFailed as exc:
        console.print(f"[red]{exc.errors[0].message}[/red]")
        raise typer.Exit(2) from None
    console.print(f"account {account_id} created ({name}, {currency.upper()})")
    print(key)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@app.command()
def demo(
    port: PortOpt = None,
    demo_database: Annotated[str, typer.Option("--demo-database", envvar="RELAYBOX_DEMO_DATABASE", help="The demo's own SQLite file: made by the demo, or refused [env: RELAYBOX_DEMO_DATABASE]")] = "relaybox-demo.db",
    sim_speed: SpeedOpt = None,
    exit_after: Annotated[Optional[float], typer.Option("--exit-after", help="Stop after this many seconds (for scripts)")] = None,
) -> None:
    """Start relaybox with a demo account and a little simulated traffic, and show how to use it.

    The demo only ever uses its own SQLite file (--demo-database), never RELAYBOX_DATABASE_URL: its
    key is public, so it refuses a file that an earlier demo did not make.
    """
    import uvicorn

    from relaybox.api.app import create_app, open_platform
    from relaybox.services.accounts import create_account
    from relaybox.store import demo_mark

    host = "127.0.0.1"
    port = port or 8000
    path = demo_database.removeprefix("sqlite:///")
    settings = settings_from(host=host, port=port, database_url=f"sqlite:///{path}", sim_speed=sim_speed)
    key = demo_mark.DEMO_KEY
    if demo_mark.owner(path) == "other":
        typer.echo(f"relaybox demo: {path} is not a database made by `relaybox demo`; "
                   "give it a file of its own with --demo-database", err=True)
        raise typer.Exit(2)
    sock = serving.bind(host, port, "demo")  # before anything is touched: a busy port is one line, exit 1
    check_secret(settings)

    async def prepare() -> None:
        platform = await open_platform(settings)
        try:
            from relaybox.store import accounts as accounts_store
            from relaybox.store import keys as keys_store

            async with platform.db.write() as conn:
                await accounts_store.keep_setting(conn, demo_mark.MARK, "1")
                known = await keys_store.get_key(conn, key=key)
            if known is None:
                await create_account(platform, name="Demo", currency="EUR", balance=Decimal("100"), api_key=key)
        finally:
            await platform.db.dispose()

    asyncio.run(prepare())
    server = uvicorn.Server(uvicorn.Config(create_app(settings, tune_gc=True), host=host, port=settings.port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = serving.url_of(host, port)
    deadline = time.monotonic() + 60
    while not _healthy(base):
        if not thread.is_alive() or time.monotonic() > deadline:
            typer.echo("relaybox demo: the server did not start", err=True)
            server.should_exit = True
            raise typer.Exit(1)
        time.sleep(0.05)

    # A small campaign of simulated traffic, including the simulator's magic numbers.
    phones = [{"number": 380971230000 + n} for n in (11, 12, 13, 1, 2, 3, 4)]
    sent = httpx.post(
        f"{base}/api/campaigns/sms/send",
        headers={"X-API-KEY": key},
        json={"sender": "relaybox", "text": f"Hello from relaybox {int(time.time())}", "phones": phones},
        timeout=10,
    )
    campaign = sent.json().get("data", {})
    print(f"relaybox demo listening on {base}", flush=True)
    console.print(f"[bold green]relaybox is running[/bold green] (database {settings.database_url}); "
                  f"API documentation at {base}/docs")
    console.print(f"demo API key: [bold]{key}[/bold]")
    console.print(f"demo campaign {campaign.get('id')} sent to {len(phones)} simulated phones\n")
    console.print("Try it:")
    print(f"curl -s -X POST {base}/api/auth/login -H 'Content-Type: application/json' -d '{{\"api_key\": \"{key}\"}}'")
    print(
        f"curl -s -X POST {base}/api/campaigns/sms/send -H 'X-API-KEY: {key}' -H 'Content-Type: application/json' "
        f"-d '{{\"sender\": \"relaybox\", \"text\": \"Hello\", \"phones\": [{{\"number\": 380971234567}}]}}'"
    )
    print(f"curl -s '{base}/api/messages?sort=id&way=desc' -H 'X-API-KEY: {key}'")
    console.print("\nOr with the relaybox command, in another terminal (virtual environment activated):")
    print(f"export RELAYBOX_URL={base} RELAYBOX_API_KEY={key}")
    print('relaybox send 380971234567 --text "Hello" --sender relaybox')
    print(f"relaybox campaigns watch {campaign.get('id')}")
    print(f"relaybox messages --campaign {campaign.get('id')} --export messages.csv")
    console.print("\nPress Ctrl+C to stop.")
    try:
        deadline = time.monotonic() + exit_after if exit_after else None
        while thread.is_alive() and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    server.should_exit = True
    thread.join(timeout=10)


cli_delivery.register(app, account_app)  # connectors, smsc, webhooks, account webhook
cli_admin.register(app, account_app)  # key create|list|revoke|rotate, account list|block|unblock|top-up|ledger
cli_people.register(app)  # send, status, campaigns, messages: over HTTP through relaybox.client
cli_limits.register(account_app)  # account limits
cli_inbound.register(app)  # inbound inject|numbers|webhook|stats
cli_contacts.register(app)  # contacts import: a CSV file into the contact book, straight to the store


if __name__ == "__main__":  # pragma: no cover
    app()
