"""Settings, read from environment variables (and an optional `.env` file) when asked for.

Nothing here is read at import time: `Settings()` reads the environment when it is built,
so tests set variables and build a fresh app.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    DATABASE_URL: str = Field(
        default="sqlite://data/notes.sqlite3",
        description="Tortoise database URL: sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB.",
    )
    DB_POOL_MIN_SIZE: int = Field(default=1, ge=0)
    DB_POOL_MAX_SIZE: int = Field(default=10, ge=1)
    DB_POOL_ACQUIRE_TIMEOUT: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a free pooled connection before a 503.",
    )
    DB_CONNECT_TIMEOUT: float = Field(
        default=5.0, gt=0, description="Seconds to open a connection."
    )
    DB_COMMAND_TIMEOUT: float = Field(default=10.0, gt=0, description="Seconds a query may run.")
    DB_STARTUP_TIMEOUT: float = Field(
        default=60.0,
        ge=0,
        description="Seconds `migrate` and `serve` keep retrying, with backoff, while the "
        "database does not accept connections yet; then they exit with an error.",
    )
    DB_STATEMENT_CACHE_SIZE: int = Field(
        default=100,
        ge=0,
        description="Prepared statements asyncpg keeps per connection; 0 behind a pooler in "
        "transaction mode that cannot track them (PgBouncer before 1.21).",
    )

    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=1, le=65535)
    LOG_LEVEL: LogLevel = "info"
    LOG_FLUSH_INTERVAL_SECONDS: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="How long an access-log line may wait in its process's buffer before it is "
        "written to stdout (a SIGKILL loses that much of the log).",
    )
    SHUTDOWN_GRACE_SECONDS: int = Field(
        default=20,
        ge=1,
        le=3600,
        description="On SIGTERM, how long in-flight requests may take to finish before the "
        "server cancels them (keep it below the orchestrator's kill timeout).",
    )
    ROOT_PATH: str = Field(default="", description="Path prefix when served behind a proxy.")
    REQUIRE_IF_MATCH: bool = Field(
        default=False, description="Refuse PATCH, PUT and DELETE without If-Match (428)."
    )
    MAX_BODY_BYTES: int = Field(
        default=65_536,
        ge=1_024,  # below this, some valid notes could not be sent
        le=10_485_760,  # a body is held in memory while it is checked
        description="The largest request body accepted, in bytes; one more is a 413.",
    )
    API_KEYS: str = Field(
        default="",
        description="Comma-separated `client:sha256-hex-of-key` entries; none: auth is off.",
    )
    API_KEYS_FILE: str | None = Field(
        default=None, description="A file of `client:sha256-hex-of-key` lines (a secret mount)."
    )
    CORS_ORIGINS: str = Field(
        default="", description="Comma-separated origins allowed by CORS; none: CORS is closed."
    )
    IDEMPOTENCY_RETENTION_HOURS: float = Field(
        default=24.0,
        ge=24.0,  # the SPEC promises callers at least a day to retry
        description="How long an Idempotency-Key is remembered (at least 24).",
    )
    IDEMPOTENCY_PURGE_INTERVAL_SECONDS: float = Field(
        default=600.0, gt=0, description="How often keys past retention are deleted."
    )
    SEARCH_TIMEOUT_MS: int = Field(
        default=1_000,
        ge=1,
        le=60_000,
        description="PostgreSQL: how long one search (`q`, `search`) may run before it is "
        "stopped and answered with a 503.",
    )
    SEARCH_LANGUAGE: str = Field(
        default="simple",
        pattern=r"^[a-z_][a-z0-9_]*$",
        description="PostgreSQL text search configuration of `search`; the index is built "
        "for `simple` (language-neutral): another one needs its own index (docs/operations.md).",
    )

    CHANGES_RETENTION_HOURS: float = Field(
        default=168.0,
        gt=0,
        description="How long the change feed keeps a change; an older cursor is a 410.",
    )
    CHANGES_PURGE_INTERVAL_SECONDS: float = Field(
        default=300.0, gt=0, description="How often changes past retention are deleted."
    )
    CHANGES_HEARTBEAT_SECONDS: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="Seconds between keep-alive comments on an idle stream.",
    )
    CHANGES_POLL_INTERVAL_SECONDS: float = Field(
        default=0.25,
        gt=0,
        le=0.9,  # a follower must hear of another replica's change within a second
        description="How often each process checks for changes made by other processes, "
        "while some follower waits.",
    )

    @model_validator(mode="after")
    def _pool_bounds_are_ordered(self) -> Settings:
        if self.DB_POOL_MIN_SIZE > self.DB_POOL_MAX_SIZE:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        return self

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.CORS_ORIGINS.split(",") if origin.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite://")
