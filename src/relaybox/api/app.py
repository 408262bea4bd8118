"""create_app(settings): the one place where the platform is wired together."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from relaybox.api import connections, pages
from relaybox.api.common import is_legacy, json_response
from relaybox.api import openapi
from relaybox.api.health import STARTING, Health, HealthCheck
from relaybox.api.legacy import errors as legacy_errors
from relaybox.api.hot import HotRoutes
from relaybox.api.limits import BodySizeLimit, error_headers
from relaybox.api.unstorable import UNSTORABLE_PATH, UnstorableParams
from relaybox.api.oneapi import accounts as oneapi_accounts
from relaybox.api.oneapi import auth as oneapi_auth
from relaybox.api.oneapi import campaigns as oneapi_campaigns
from relaybox.api.oneapi import contacts as oneapi_contacts
from relaybox.api.oneapi import errors as oneapi_errors
from relaybox.api.oneapi import groups as oneapi_groups
from relaybox.api.oneapi import messages as oneapi_messages
from relaybox.api.oneapi import inbound as oneapi_inbound
from relaybox.api.oneapi import rcs as oneapi_rcs
from relaybox.api.oneapi import reports as oneapi_reports
from relaybox.api.oneapi import stoplist as oneapi_stoplist
from relaybox.config import Settings
from relaybox.console.errors import console_error, console_http_error, is_console
from relaybox.connectors import config as connectors_config
from relaybox.connectors.routing import build_router
from relaybox.connectors.shared_simulator import SharedSimulatorConnector
from relaybox.connectors.simulator import SimulatorConnector
from relaybox import gc_tuning
from relaybox.engine import Engine, engine_process
from relaybox.errors import LegacyCode, RelayboxError, ValidationFailed
from relaybox.services import rate_limits
from relaybox.services.auth import Authenticator
from relaybox.services.jwt_keys import deployment_id, load_secret
from relaybox.services.platform import Platform, migrate_store, open_platform  # noqa: F401 - both re-exported
from relaybox.services.single_sends import SingleSendQueue
from relaybox.store.wakeups import DueAnnouncer
from relaybox.observability import logs
from relaybox.observability.http import Observed

log = logging.getLogger("relaybox")


def build_engine(platform: Platform) -> Engine:
    """The engine for this platform: the built-in simulator (in memory, or in the database with `sim_network =
    "database"`) and relaybox.toml's connectors and routes. Raises ConfigError for an invalid relaybox.toml.
    """
    s = platform.settings
    if s.sim_network == "database":
        connector = SharedSimulatorConnector(speed=s.sim_speed, profile=s.sim_profile, seed=s.sim_seed, db=platform.db)
    else:
        connector = SimulatorConnector(speed=s.sim_speed, profile=s.sim_profile, seed=s.sim_seed)
    # relaybox.toml's connectors and routes; ConfigError (with every problem listed) if it is invalid
    router = build_router(
        connectors_config.load(s.config), connector, sim_speed=s.sim_speed, sim_profile=s.sim_profile, sim_seed=s.sim_seed
    )
    return Engine(platform, connector, batch_size=s.dispatch_batch, max_in_flight=s.engine_concurrency, router=router)


def error_response(request: Request, exc: RelayboxError):
    """A RelayboxError in the envelope of the family the request is for: console page, legacy or One API."""
    if is_console(request):
        return console_error(request, exc)
    status, body = (legacy_errors if is_legacy(request) else oneapi_errors).envelope(exc)
    response = json_response(body, status)
    response.headers.update(error_headers(exc) or {})
    return response


def create_app(settings: Settings | None = None, *, tune_gc: bool = False) -> FastAPI:
    """`tune_gc`: the app is its process's whole work (`relaybox serve`, `demo`): tune the
    garbage collector for it once it has started (gc_tuning.py); not in a test process.

    Raises services.jwt_keys.SecretError when the JWT secret is shorter than 32 bytes or unreadable.
    """
    settings = settings or Settings()
    secret = load_secret(settings)  # SecretError (one line) for a short or unreadable secret: refused at start

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        platform = await open_platform(settings)
        app.state.platform = platform
        app.state.authenticator = Authenticator(platform, secret, await deployment_id(platform),
                                                cache_seconds=settings.auth_cache_seconds)
        platform.limiter = rate_limits.limiter_for(settings, platform.db)
        platform.limiter.start()
        engine = build_engine(platform) if settings.engine and not settings.engine_process else None
        app.state.engine = engine
        # The engine here is woken directly; workers in other processes, on PostgreSQL, by a NOTIFY
        # (store/wakeups.py); on SQLite the engine process looks for due work every 50 ms.
        announcer = DueAnnouncer(platform.db) if engine is None and not platform.db.is_sqlite else None
        app.state.notify_engine = engine.notify if engine else announcer.announce if announcer else (lambda: None)
        app.state.single_sends = SingleSendQueue(platform, on_written=app.state.notify_engine)
        app.state.single_sends.start()
        if engine:
            await engine.start()
        # started once the store is migrated, so that the child finds it ready; restarted if it dies
        supervisor = engine_process.Supervisor(settings) if settings.engine and settings.engine_process else None
        if supervisor:
            supervisor.start()
        mode = "process" if supervisor else "in-process" if engine else "workers"
        app.state.health = HealthCheck(platform, mode=mode, supervisor=supervisor)
        app.state.ready = True
        if tune_gc:
            gc_tuning.tune_for_batches()  # once started: what is alive now is kept out of the collector's way
        try:
            yield
        finally:
            app.state.ready = False
            await app.state.single_sends.stop()
            await platform.limiter.stop()
            if announcer:
                await announcer.close()
            if engine:
                await engine.stop()
            if supervisor:
                await supervisor.stop()  # not restarted from here on
            await platform.db.dispose()

    app = _fastapi(title="relaybox", version="0.1.0", lifespan=lifespan, **pages.app_options())
    app.state.ready = False
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HotRoutes, max_bytes=settings.max_body_bytes)  # before the routing
    app.add_middleware(UnstorableParams)  # a NUL in a query or path parameter, for every route
    # outermost: the request id and latency of every request, the hot send path's included
    app.add_middleware(Observed, instruments=_instruments(settings))

    @app.exception_handler(RelayboxError)
    async def on_error(request: Request, exc: RelayboxError):
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError):
        return error_response(request, ValidationFailed.one("body", "The request is invalid.", LegacyCode.INVALID_PAYLOAD))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        if is_console(request):
            return console_http_error(request, exc)
        if is_legacy(request) and exc.status_code == 405:
            return json_response(legacy_errors.error_body(LegacyCode.UNKNOWN_METHOD))
        messages = {404: "Not found", 405: "Method not allowed"}
        return json_response({"message": messages.get(exc.status_code, exc.detail)}, exc.status_code)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if is_legacy(request):
            return json_response(legacy_errors.error_body(LegacyCode.UNKNOWN_ERROR))
        return json_response({"message": "Server Error"}, 500)

    @app.get("/healthz", tags=["health"])
    @openapi.documented(security=openapi.NO_AUTH, ok=Health, other={503: Health}, operation_id="healthz",
                        summary="Whether this relaybox can work now: database answering, an engine alive")
    async def healthz(request: Request):
        # 200 only with the database answering and an engine alive; else 503 and why (api/health.py)
        if not getattr(request.app.state, "ready", False):
            return json_response(STARTING, 503)
        status, body = await request.app.state.health.report()
        return json_response(body, status)

    if settings.metrics and not settings.metrics_listen:
        from relaybox.observability.endpoint import scrape

        @app.get("/metrics", include_in_schema=False)
        async def metrics(request: Request):
            # unauthenticated, as Prometheus expects; platform-wide figures only (docs/operations.md)
            return await scrape(request.app.state.platform.db)

    from relaybox.console import install as install_console

    install_console(app)
    for module in (oneapi_auth, oneapi_accounts, oneapi_campaigns, oneapi_messages, oneapi_rcs, oneapi_inbound, oneapi_reports):
        app.include_router(module.router, dependencies=UNSTORABLE_PATH)
    # the contact book (docs/contacts.md)
    for module in (oneapi_contacts, oneapi_groups, oneapi_stoplist):
        app.include_router(module.router, dependencies=UNSTORABLE_PATH)
    _include_legacy(app)
    pages.include(app)  # `/`, and the policy of the docs pages (api/pages.py)
    openapi.install(app)
    return app


def _instruments(settings: Settings):
    if not settings.metrics:
        return None
    from relaybox.observability.metrics import instruments

    return instruments()


def _fastapi(**kwargs) -> FastAPI:
    # FastAPIOffline: a FastAPI whose /docs and /redoc use the files shipped in its package, not
    # a CDN (api/pages.py).  FastAPI's built-in OpenTelemetry hooks look up tracer and meter providers on every
    # request (a tenth of the server's time on POST /api/messages/send); relaybox exports
    # no telemetry, so they are off.  Older FastAPI releases have no such hooks.
    try:
        return FastAPIOffline(telemetry={"tracing": False, "metrics": False, "logs": False}, **kwargs)
    except TypeError:
        return FastAPIOffline(**kwargs)


def create_app_from_env() -> FastAPI:
    """`create_app` with settings from the environment: the factory of `serve --workers N`'s processes."""
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    connections.configure(settings)  # this worker process's connections (api/connections.py)
    return create_app(settings, tune_gc=True)


def _include_legacy(app: FastAPI) -> None:
    try:
        from relaybox.api.legacy import routes
    except ImportError:  # the legacy family is optional while it is being built
        return
    routes.include(app)
