"""The one Tortoise configuration, shared by the app, the tests, the migrate command and Aerich.

`aerich.ini` names `service.db.TORTOISE_ORM`; it is computed when first looked up (module
`__getattr__`), from the environment of that moment, so importing this module reads nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from service.config import Settings

APP_LABEL = "models"
MODEL_MODULES = ["service.models", "aerich.models"]
MIGRATIONS_LOCATION = str(Path(__file__).resolve().parent.parent / "migrations")


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """Build the Tortoise config dict for the database in `settings`."""
    connection = expand_db_url(settings.DATABASE_URL)
    credentials: dict[str, Any] = connection["credentials"]
    if settings.is_sqlite:
        ensure_sqlite_directory(credentials["file_path"])
    else:
        credentials.update(
            minsize=settings.DB_POOL_MIN_SIZE,
            maxsize=settings.DB_POOL_MAX_SIZE,
            timeout=settings.DB_CONNECT_TIMEOUT,
            command_timeout=settings.DB_COMMAND_TIMEOUT,
            statement_cache_size=settings.DB_STATEMENT_CACHE_SIZE,
            acquire_timeout=settings.DB_POOL_ACQUIRE_TIMEOUT,
            reset=keep_session_state,
        )
        # asyncpg, with a bounded and fair wait for a pooled connection
        connection["engine"] = "service.internals.pg_pool"
    return {
        "connections": {"default": connection},
        "apps": {APP_LABEL: {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def keep_session_state(connection: object) -> None:
    """What asyncpg's pool does to a connection given back, besides rolling back an open
    transaction (which it always does): nothing.

    By default the pool sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release: a round trip per request, for the database too. The
    service leaves no session state on pooled connections (no SET, LISTEN, cursors or
    advisory locks; the migration lock has a connection of its own), so it skips it.
    """


def ensure_sqlite_directory(file_path: str) -> None:
    if file_path != ":memory:":
        Path(file_path).parent.mkdir(parents=True, exist_ok=True)


def __getattr__(name: str) -> Any:
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_unavailable_error(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached (so the caller should retry later).

    After a PostgreSQL restart the pool heals by itself, but until then queries raise the
    driver's and the OS's own exceptions, not Tortoise's.
    """
    from asyncpg import exceptions as pg
    from tortoise.exceptions import DBConnectionError

    unavailable = (
        DBConnectionError,
        OSError,  # ConnectionRefusedError, ConnectionResetError, socket errors
        TimeoutError,
        pg.PostgresConnectionError,
        pg.InterfaceError,
        pg.CannotConnectNowError,
        pg.TooManyConnectionsError,
        pg.AdminShutdownError,
    )
    seen: BaseException | None = exc
    while seen is not None:  # Tortoise sometimes wraps the driver's error
        if isinstance(seen, unavailable) or _lost_mid_operation(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _lost_mid_operation(exc: BaseException) -> bool:
    """A pooled connection the server cut off during a statement, lent out again before the
    driver noticed the socket closed: asyncpg refuses the next statement on it with "another
    operation is in progress" (the pool then replaces it). Seen when PostgreSQL stops."""
    from asyncpg import exceptions as pg

    return isinstance(exc, pg.InternalClientError) and "another operation" in str(exc)
