"""Pool usage for the metrics, read from Tortoise's clients' private attributes: these tests
pin what `service.internals.pool_usage` relies on, so an upgrade that moves them fails here."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from tortoise import connections

from service.config import Settings
from service.internals.pool_usage import pool_usage


async def test_an_idle_service_uses_no_connection(app: FastAPI, settings: Settings) -> None:
    usage = pool_usage()

    assert usage is not None
    assert usage.in_use == 0
    expected_max = 1 if settings.is_sqlite else settings.DB_POOL_MAX_SIZE
    assert usage.max_size == expected_max
    assert 0 <= usage.size <= usage.max_size


async def test_a_connection_held_by_a_query_counts_as_in_use(app: FastAPI) -> None:
    client = connections.get("default")
    async with client.acquire_connection():
        usage = pool_usage()
        assert usage is not None
        assert usage.in_use == 1
        assert usage.size >= 1
    await asyncio.sleep(0)
    released = pool_usage()
    assert released is not None
    assert released.in_use == 0


async def test_the_private_attributes_it_reads_are_there(app: FastAPI, settings: Settings) -> None:
    client = connections.get("default")
    if settings.is_sqlite:
        assert hasattr(client, "_connection")
        assert isinstance(client._lock, asyncio.Lock)
    else:
        pool = client._pool
        assert (pool.get_size(), pool.get_idle_size(), pool.get_max_size())[2] == (
            settings.DB_POOL_MAX_SIZE
        )
