"""The one Tortoise configuration, shared by the app, the tests, the migrate command and Aerich.

`aerich.ini` names `service.db.TORTOISE_ORM`; it is computed when first looked up (module
`__getattr__`), from the environment of that moment, so importing this module reads nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.config_generator import expand_db_url

from service.config import Settings

if TYPE_CHECKING:
    import asyncpg

logger = logging.getLogger("service.db")

_FIRST_RETRY_DELAY_SECONDS = 0.5
_LONGEST_RETRY_DELAY_SECONDS = 5.0

APP_LABEL = "models"
MODEL_MODULES = ["service.models", "aerich.models"]
MIGRATIONS_LOCATION = str(Path(__file__).resolve().parent.parent / "migrations")


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """Build the Tortoise config dict for the database in `settings`."""
    connection = expand_db_url(settings.DATABASE_URL)
    credentials: dict[str, Any] = connection["credentials"]
    if settings.is_sqlite:
        ensure_sqlite_directory(credentials["file_path"])
        # transactions take the write lock at BEGIN, so they wait for it like any write
        connection["engine"] = "service.internals.sqlite_writes"
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
        if isinstance(seen, unavailable) or _lost_mid_operation(seen) or _sqlite_locked(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _sqlite_locked(exc: BaseException) -> bool:
    # Another connection held SQLite's write lock longer than the busy timeout (5 s).
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


def _lost_mid_operation(exc: BaseException) -> bool:
    """A pooled connection the server cut off during a statement, lent out again before the
    driver noticed the socket closed: asyncpg refuses the next statement on it with "another
    operation is in progress" (the pool then replaces it). Seen when PostgreSQL stops."""
    from asyncpg import exceptions as pg

    return isinstance(exc, pg.InternalClientError) and "another operation" in str(exc)


class DatabaseNotReachable(RuntimeError):
    """The database did not accept a connection within DB_STARTUP_TIMEOUT."""


async def connect_directly(
    settings: Settings, *, connect_timeout: float | None = None
) -> asyncpg.Connection:
    """One asyncpg connection outside the pool (PostgreSQL only)."""
    import asyncpg

    credentials = expand_db_url(settings.DATABASE_URL)["credentials"]
    connection: asyncpg.Connection = await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=credentials.get("database"),
        timeout=connect_timeout or settings.DB_CONNECT_TIMEOUT,
    )
    return connection


async def database_answers(settings: Settings) -> bool:
    """One attempt: whether PostgreSQL accepts a connection now (an error other than "not
    reachable", such as a wrong password, is raised)."""
    try:
        connection = await connect_directly(settings)
    except Exception as exc:
        if not is_unavailable_error(exc):
            raise
        return False
    await connection.close()
    return True


async def wait_for_database(settings: Settings) -> None:
    """Return once PostgreSQL accepts a connection, retrying with backoff for up to
    DB_STARTUP_TIMEOUT seconds (each failed attempt logged); then raise DatabaseNotReachable.

    At startup the database may still be coming up (a container started at the same time, a
    restart during a deploy): only errors meaning "not reachable yet" are retried; a wrong
    password or a missing database fails at once. SQLite needs no wait.
    """
    if settings.is_sqlite:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.DB_STARTUP_TIMEOUT
    delay = _FIRST_RETRY_DELAY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline - loop.time()
        try:
            connection = await connect_directly(
                settings, connect_timeout=max(0.1, min(settings.DB_CONNECT_TIMEOUT, remaining))
            )
        except Exception as exc:
            if not is_unavailable_error(exc):
                raise
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DatabaseNotReachable(
                    f"The database at {_where(settings)} did not accept a connection within "
                    f"DB_STARTUP_TIMEOUT={settings.DB_STARTUP_TIMEOUT:g} s ({attempt} "
                    f"attempt(s); last error: {_describe(exc)}). Check DATABASE_URL and that "
                    "PostgreSQL is running."
                ) from None
            pause = min(delay, remaining)
            logger.warning(
                "The database at %s is not reachable yet (attempt %d: %s); retrying in %.1f s "
                "(giving up in %.0f s)",
                _where(settings),
                attempt,
                _describe(exc),
                pause,
                remaining,
            )
            await asyncio.sleep(pause)
            delay = min(delay * 2, _LONGEST_RETRY_DELAY_SECONDS)
            continue
        await connection.close()
        if attempt > 1:
            logger.info(
                "The database at %s accepts connections (attempt %d)", _where(settings), attempt
            )
        return


def _where(settings: Settings) -> str:
    """host:port/database, never the password."""
    credentials = expand_db_url(settings.DATABASE_URL)["credentials"]
    return f"{credentials.get('host')}:{credentials.get('port')}/{credentials.get('database')}"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
