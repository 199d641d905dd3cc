"""The Tortoise configuration and the classification of database outages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI
from tortoise import connections
from tortoise.exceptions import DBConnectionError, IntegrityError

from service.config import Settings
from service.db import is_unavailable_error, tortoise_config


def test_postgres_pool_settings_come_from_the_settings() -> None:
    settings = Settings(
        DATABASE_URL="postgres://u:p@db.internal:5433/notes",
        DB_POOL_MIN_SIZE=2,
        DB_POOL_MAX_SIZE=7,
        DB_CONNECT_TIMEOUT=1.5,
        DB_COMMAND_TIMEOUT=3,
        DB_STATEMENT_CACHE_SIZE=0,
        DB_POOL_ACQUIRE_TIMEOUT=0.75,
    )
    connection = tortoise_config(settings)["connections"]["default"]
    assert connection["engine"] == "service.internals.pg_pool"
    credentials = connection["credentials"]
    assert credentials["acquire_timeout"] == 0.75
    assert credentials["host"] == "db.internal"
    assert credentials["port"] == 5433
    assert (credentials["minsize"], credentials["maxsize"]) == (2, 7)
    assert credentials["timeout"] == 1.5
    assert credentials["command_timeout"] == 3
    assert credentials["statement_cache_size"] == 0


def test_sqlite_gets_one_connection_and_no_pool_settings(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite://{tmp_path / 'notes.sqlite3'}", DB_POOL_MAX_SIZE=7)
    connection = tortoise_config(settings)["connections"]["default"]
    assert connection["engine"] == "service.internals.sqlite_writes"
    pool_settings = {"minsize", "maxsize", "acquire_timeout", "reset", "statement_cache_size"}
    assert not pool_settings & set(connection["credentials"])


@pytest.mark.postgres_only(reason="SQLite has one connection, no pool that could reset it")
async def test_pooled_connections_are_not_reset_on_release(app: FastAPI) -> None:
    """No reset query per request: session state set on a pooled connection survives its
    release (so the pool sent no RESET ALL), while an open transaction does not."""
    db = connections.get("default")
    async with db.acquire_connection() as connection:
        await connection.execute("SET application_name = 'kept'")
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("CREATE TEMPORARY TABLE rolled_back (x int)")
    # asyncpg's pool hands the connection it got back last out first.
    async with db.acquire_connection() as connection:
        assert await connection.fetchval("SHOW application_name") == "kept"
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT to_regclass('pg_temp.rolled_back')") is None
        await connection.execute("RESET application_name")


def test_the_sqlite_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "dir" / "notes.sqlite3"
    tortoise_config(Settings(DATABASE_URL=f"sqlite://{target}"))
    assert target.parent.is_dir()


def test_config_keeps_utc() -> None:
    config = tortoise_config(Settings(DATABASE_URL="sqlite://:memory:"))
    assert config["use_tz"] is True
    assert config["timezone"] == "UTC"


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        DBConnectionError("gone"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
    ],
)
def test_outages_are_recognised(exc: Exception) -> None:
    assert is_unavailable_error(exc)


def test_a_wrapped_outage_is_recognised() -> None:
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = ConnectionResetError()
    assert is_unavailable_error(wrapped)


@pytest.mark.parametrize("exc", [ValueError(), IntegrityError("dup"), KeyError("x")])
def test_other_errors_are_not_outages(exc: Exception) -> None:
    assert not is_unavailable_error(exc)


def test_a_sqlite_write_lock_held_past_the_busy_timeout_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as locked:
            writer.execute("BEGIN IMMEDIATE")
        wrapped = RuntimeError("wrapped")
        wrapped.__cause__ = locked.value
        assert is_unavailable_error(wrapped)
    finally:
        writer.close()
        holder.close()
