"""Typed settings.  Every field can be set by a `RELAYBOX_*` environment variable
and, for the commands that take it, by a CLI flag of the same name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relaybox.domain.webhook_urls import parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAYBOX_", extra="ignore")

    database_url: str = Field("sqlite:///relaybox.db", description="SQLAlchemy URL of the store")
    #: Connections each process keeps to a PostgreSQL store, and as many more at peaks (SQLite: the
    #: readers' threads).  PostgreSQL's own limit (max_connections, 100 by default) is shared by every
    #: process of every relaybox on the server.
    database_pool_size: int = Field(10, ge=1, le=100)
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = Field(
        None, description="HMAC secret for JWTs, 32 bytes or more; unset: one generated into a file in the state "
        "directory (services/jwt_keys.py)",
    )
    jwt_ttl_seconds: int = 3600
    state_dir: str | None = Field(
        None, description="folder of the generated JWT secret file; unset: the SQLite database's folder, or the "
        "working folder on PostgreSQL",
    )
    auth_cache_seconds: float = Field(
        5.0, ge=0, description="how long a process trusts a key's or an account's state: bounds how long a revoked "
        "key, its JWTs, or a blocked account keep working",
    )
    sim_speed: float = Field(1.0, ge=0, description="simulator time scale: 1 realistic, 0 as fast as possible")
    sim_profile: Literal["magic", "realistic"] = "magic"
    sim_seed: int = 0
    sim_network: Literal["memory", "database"] = Field(
        "database",
        description="where the simulated network keeps its state: the database (the default: one network shared by "
        "every worker process, surviving their crashes: connectors/shared_simulator.py), or this process's memory "
        "(lost with the process: messages waiting for their delivery reports then wait until they expire)",
    )
    engine_concurrency: int = Field(8, ge=1, description="submit batches a worker has with each connector at once")
    engine: bool = Field(True, description="run the delivery engine with the API")
    engine_process: bool = Field(
        False,
        description="run that engine in a child process of its own (`relaybox serve` does) instead of on the "
        "API's event loop: on a machine with two or more cores the API and the engine each get one",
    )
    engine_restart_delay: float = Field(
        0.5, gt=0, description="seconds before `serve` restarts a dead engine child; doubles with each death in a row"
    )
    engine_restart_max_delay: float = Field(30.0, gt=0, description="the longest wait before such a restart (seconds)")
    dispatch_batch: int = Field(1000, ge=1)
    max_body_bytes: int = Field(4 * 1024 * 1024, description="larger request bodies are refused")
    stat_jobs_per_account: int = Field(
        3, ge=1, description="statistics export jobs an account may have pending or processing at once; one more is "
        "refused with BSG's \"Maximum count of exports reached\"",
    )
    duplicate_window_seconds: float = 10.0
    log_level: str = "warning"
    log_format: Literal["text", "json"] = Field(
        "text", description="log lines as plain text or one JSON object a line; both carry the request id "
        "(observability/logs.py)",
    )
    metrics: bool = Field(True, description="serve Prometheus metrics (observability/); false: no /metrics at all")
    metrics_listen: str = Field(
        "", description="host:port of a listener of its own for /metrics (e.g. 127.0.0.1:9100), kept off the "
        "API's port; empty: /metrics on the API's port",
    )
    metrics_dir: str | None = Field(
        None, description="folder of the multiprocess metric files `serve` and `worker` write (emptied at start); "
        "unset: a new temporary folder. Workers on one machine that should be scraped together share one",
    )
    config: str | None = Field(
        None, description="path of relaybox.toml: connectors and routes (connectors/config.py); none: the simulator only"
    )
    webhook_max_attempts: int = Field(10, ge=1, description="tries of one webhook before it is marked failed")
    webhook_retry_base_seconds: float = Field(2.0, gt=0, description="delay before the first retry; doubles each time")
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="total deadline of one webhook attempt (resolve, connect, send, read the reply): "
        "a receiver slower than this counts as a failure"
    )
    webhook_allow_networks: str = Field(
        "",
        description="comma-separated CIDRs that webhooks may reach although they are internal (loopback, "
        "private, link-local …), e.g. '127.0.0.0/8,10.1.0.0/16' for local development; empty: none",
    )
    webhook_concurrency: int = Field(64, ge=1, description="webhook attempts a worker has in flight at once")
    webhook_account_concurrency: int = Field(
        4, ge=1, description="of which at most this many for one account: a slow receiver holds only its tenant's share"
    )
    webhook_reply_max_bytes: int = Field(
        64 * 1024, ge=0, description="a receiver's reply body is read up to this many bytes, the rest discarded"
    )

    # Inbound (two-way) SMS (docs/inbound.md)
    inbound_stop_keywords: str = Field(
        "", description="comma-separated STOP-style keywords (a whole reply, any letter case, puts its sender on "
        "the stop list); empty: the built-in list of common languages; '-': none"
    )
    inbound_dedupe_seconds: float = Field(
        600.0, ge=0, description="an inbound message identical to one stored this recently (same addresses, "
        "concatenation reference and text) is a redelivery and is stored once"
    )
    inbound_parts_ttl_seconds: float = Field(
        1800.0, gt=0, description="parts of a concatenated inbound message whose set is still incomplete after "
        "this are dropped"
    )

    # Rate limits per account (services/rate_limits.py): the defaults for accounts without limits
    # of their own (`relaybox account limits`). 0 requests or messages per second: no limit.
    rate_requests_per_second: int = Field(200, ge=0, description="authenticated requests per second per account")
    rate_requests_burst: int = Field(400, ge=0, description="requests an account may make at once above its rate")
    rate_messages_per_second: int = Field(1000, ge=0, description="messages accepted per second per account")
    rate_messages_burst: int = Field(
        20000, ge=0, description="messages an account may send at once (two 10,000-phone campaigns)"
    )
    rate_sync_seconds: float = Field(
        0.2, gt=0, le=5, description="how often each API process exchanges its spending with the others (database)"
    )
    # Connection hygiene of `relaybox serve` (api/connections.py)
    header_timeout_seconds: float = Field(
        5.0, gt=0, description="a connection that has not sent a whole request head within this is closed"
    )
    keep_alive_seconds: float = Field(5.0, gt=0, description="an idle keep-alive connection is closed after this")
    max_connections: int = Field(
        1000, ge=1, description="open connections per API process; above it the oldest idle one is closed"
    )

    @field_validator("metrics_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        if value:
            listen_address(value)  # refused at start when it is not host:port
        return value

    @field_validator("webhook_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # refused at start, with the offending item named
        return value


def listen_address(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 hosts in brackets) as (host, port); ValueError otherwise."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return host, int(port)
