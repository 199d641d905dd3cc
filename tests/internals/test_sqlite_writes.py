"""The SQLite engine's transactions take the write lock at BEGIN, so a write transaction
waits (the busy timeout) for a lock another connection holds instead of failing at once.
Pins what service/internals/sqlite_writes.py relies on: Tortoise's SQLite client opens its
transactions through `_in_transaction()` and `SqliteTransactionWrapper.begin()`."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

from service.config import Settings
from service.db import tortoise_config
from service.internals.sqlite_writes import ImmediateTransactionClient


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[ImmediateTransactionClient]:
    client = ImmediateTransactionClient(
        file_path=str(tmp_path / "writes.sqlite3"), connection_name="writes"
    )
    await client.create_connection(with_db=True)
    await client.execute_script("CREATE TABLE t (x INTEGER)")
    yield client
    await client.close()


def other_connection(client: SqliteClient) -> sqlite3.Connection:
    return sqlite3.connect(client.filename, isolation_level=None, timeout=0)


def test_the_service_configures_sqlite_with_this_engine(tmp_path: Path) -> None:
    config = tortoise_config(Settings(DATABASE_URL=f"sqlite://{tmp_path / 'notes.sqlite3'}"))
    assert config["connections"]["default"]["engine"] == "service.internals.sqlite_writes"


def test_tortoise_still_begins_through_the_wrapper_this_engine_overrides() -> None:
    assert "begin" in vars(SqliteTransactionWrapper)
    assert "_in_transaction" in vars(SqliteClient)


async def test_a_transaction_holds_the_write_lock_from_its_begin(
    client: ImmediateTransactionClient,
) -> None:
    other = other_connection(client)
    try:
        async with client._in_transaction():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # nothing written yet, and still locked
        other.execute("BEGIN IMMEDIATE")  # free again after the commit
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_write_transaction_waits_for_a_lock_another_connection_holds(
    client: ImmediateTransactionClient,
) -> None:
    holder = other_connection(client)
    holder.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with client._in_transaction() as transaction:
            await transaction.execute_query("INSERT INTO t (x) VALUES (1)")

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the lock (sqlite3's busy timeout: 5 s)
    holder.execute("ROLLBACK")
    holder.close()
    await asyncio.wait_for(writing, timeout=10)
    assert await client.execute_query_dict("SELECT x FROM t") == [{"x": 1}]
