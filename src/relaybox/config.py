"""Typed settings.  Every field can be set by a `RELAYBOX_*` environment variable
and, for the commands that take it, by a CLI flag of the same name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAYBOX_", extra="ignore")

    database_url: str = Field("sqlite:///relaybox.db", description="SQLAlchemy URL of the store")
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = Field(None, description="HMAC secret for JWTs; generated and stored on first start if unset")
    jwt_ttl_seconds: int = 3600
    sim_speed: float = Field(1.0, ge=0, description="simulator time scale: 1 realistic, 0 as fast as possible")
    sim_profile: Literal["magic", "realistic"] = "magic"
    sim_seed: int = 0
    sim_network: Literal["memory", "database"] = Field(
        "memory",
        description="where the simulated network keeps its state: this process's memory, or the database "
        "(one network shared by every worker process, surviving their crashes: connectors/shared_simulator.py)",
    )
    engine_concurrency: int = Field(8, ge=1, description="submit batches a worker has with each connector at once")
    engine: bool = Field(True, description="run the delivery engine with the API")
    engine_process: bool = Field(
        False,
        description="run that engine in a child process of its own (`relaybox serve` does) instead of on the "
        "API's event loop: on a machine with two or more cores the API and the engine each get one",
    )
    dispatch_batch: int = Field(1000, ge=1)
    max_body_bytes: int = Field(4 * 1024 * 1024, description="larger request bodies are refused")
    duplicate_window_seconds: float = 10.0
    log_level: str = "warning"
    config: str | None = Field(
        None, description="path of relaybox.toml: connectors and routes (connectors/config.py); none: the simulator only"
    )
    webhook_max_attempts: int = Field(10, ge=1, description="tries of one webhook before it is marked failed")
    webhook_retry_base_seconds: float = Field(2.0, gt=0, description="delay before the first retry; doubles each time")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="a receiver slower than this counts as a failure")
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
