"""Throwaway databases for the tests, on the backend named by TEST_DATABASE.

- `sqlite` (default): a file in a temporary directory.
- `postgres`: a fresh database on the server at TEST_POSTGRES_URL (default: the local
  server, `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def backend() -> str:
    name = os.environ.get("TEST_DATABASE", "sqlite")
    if name not in ("sqlite", "postgres"):
        raise ValueError(f"TEST_DATABASE must be sqlite or postgres, not {name!r}")
    return name


def postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


async def connect_admin() -> asyncpg.Connection:
    return await connect_to(postgres_admin_url())


async def connect_to(url: str) -> asyncpg.Connection:
    credentials = expand_db_url(url)["credentials"]
    return await asyncpg.connect(
        host=credentials["host"],
        port=credentials["port"],
        user=credentials["user"],
        password=credentials.get("password"),
        database=credentials["database"],
        timeout=5,
    )


@asynccontextmanager
async def throwaway_database(directory: Path) -> AsyncIterator[str]:
    """A new, empty database of the configured backend; yields its Tortoise URL."""
    if backend() == "sqlite":
        yield f"sqlite://{directory / f'notes-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    name = f"notes_test_{uuid.uuid4().hex[:12]}"
    admin = await connect_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = postgres_admin_url().rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
