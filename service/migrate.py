"""Bringing a database to the current schema (Aerich), and checking that it is there.

`apply_migrations` is what `python -m service migrate` runs. On PostgreSQL it holds an
advisory lock while Aerich upgrades, so replicas that start at once apply each migration
exactly once: the first takes the lock and migrates, the others wait and then find
nothing left to do. (Aerich alone is not safe under concurrent upgrades.) On SQLite a lock
file next to the database does the same for processes sharing that file.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

from aerich import Command
from aerich.models import Aerich
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import OperationalError

from service.config import Settings
from service.db import (
    APP_LABEL,
    MIGRATIONS_LOCATION,
    connect_directly,
    ensure_sqlite_directory,
    tortoise_config,
)

# Any constant works; it only has to be the same for every replica.
_ADVISORY_LOCK_KEY = 0x6E6F746573  # "notes"
_LOCK_POLL_SECONDS = 0.1


def migration_files() -> list[str]:
    """The versions this code knows, in order: the names of the migration files."""
    files = Path(MIGRATIONS_LOCATION, APP_LABEL).glob("*.py")
    return sorted((f.name for f in files), key=lambda name: int(name.split("_", 1)[0]))


async def pending_migrations() -> list[str]:
    """Migrations not yet applied to the connected database (Tortoise must be initialised)."""
    try:
        versions = await Aerich.filter(app=APP_LABEL).values_list("version", flat=True)
        applied = {str(version) for version in versions}
    except OperationalError:  # no aerich table: an empty database
        applied = set()
    return [name for name in migration_files() if name not in applied]


async def apply_migrations(settings: Settings) -> list[str]:
    """Apply every pending migration; returns the names of those applied."""
    async with _exclusive(settings):
        command = Command(
            tortoise_config=tortoise_config(settings), app=APP_LABEL, location=MIGRATIONS_LOCATION
        )
        async with command:
            applied: list[str] = await command.upgrade(run_in_transaction=True)
            return applied


@asynccontextmanager
async def _exclusive(settings: Settings) -> AsyncIterator[None]:
    if settings.is_sqlite:
        file_path = expand_db_url(settings.DATABASE_URL)["credentials"]["file_path"]
        if file_path == ":memory:":
            yield  # private to this process: nobody to wait for
            return
        ensure_sqlite_directory(file_path)
        lock_file = await asyncio.to_thread(_lock_exclusively, Path(f"{file_path}.migrate-lock"))
        try:
            yield
        finally:
            lock_file.close()  # releases the lock
        return
    connection = await connect_directly(settings)
    try:
        # Polled, not waited for in one statement: a waiting statement holds a snapshot, and
        # CREATE INDEX CONCURRENTLY (the search migration) waits for every older snapshot
        # to end, so a blocked pg_advisory_lock() would wait on the migration forever.
        lock = "SELECT pg_try_advisory_lock($1)"
        while not await connection.fetchval(lock, _ADVISORY_LOCK_KEY):  # noqa: ASYNC110
            await asyncio.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        await connection.close()  # closing the session releases the lock


def _lock_exclusively(path: Path) -> IO[str]:
    lock_file = path.open("a")
    fcntl.flock(lock_file, fcntl.LOCK_EX)  # waits while another process holds it
    return lock_file
