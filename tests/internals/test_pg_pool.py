"""The pool's bounded, fair wait: when every connection is busy, a request gets a 503 with
Retry-After after DB_POOL_ACQUIRE_TIMEOUT instead of queueing without limit, and waiters
are served in the order they came."""

from __future__ import annotations

import asyncio
import inspect
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.config import Settings
from service.internals.pg_pool import _CREATE_POOL_DEFAULTS, BoundedWaitPool
from tests.servers import running_server
from tests.test_shutdown import create, wait_until_in_flight, writes_held

NO_POOL_ON_SQLITE = "SQLite has one connection, no pool (tests/test_db.py checks its config)"


@pytest.mark.postgres_only(reason=NO_POOL_ON_SQLITE)
@pytest.mark.live
async def test_a_request_waits_for_a_pooled_connection_only_so_long(
    settings: Settings, tmp_dir: Path
) -> None:
    env = {
        "DATABASE_URL": settings.DATABASE_URL,
        "DB_POOL_MIN_SIZE": "1",
        "DB_POOL_MAX_SIZE": "1",
        "DB_POOL_ACQUIRE_TIMEOUT": "0.5",
    }
    with running_server(env, tmp_dir) as server:
        async with writes_held(settings):
            holder = asyncio.create_task(asyncio.to_thread(create, server.base_url, "holder"))
            await wait_until_in_flight(server, 1)  # it holds the only connection, waiting
            started = time.monotonic()
            waiting = await asyncio.to_thread(httpx.get, server.base_url + "/notes", timeout=10)
            waited = time.monotonic() - started
        held = await holder

    assert waiting.status_code == 503
    assert waiting.headers["content-type"] == "application/problem+json"
    assert waiting.headers["Retry-After"]
    assert 0.4 < waited < 2.0
    assert held.status_code == 201  # the holder finished once the lock was gone


@pytest.mark.postgres_only(reason=NO_POOL_ON_SQLITE)
async def test_waiters_get_connections_first_come_first_served(settings: Settings) -> None:
    """asyncpg's queue lets a request that arrives as a connection comes back take it ahead
    of those already waiting (the p99 tail under load); the service's pool does not."""
    options = {**_CREATE_POOL_DEFAULTS, "min_size": 1, "max_size": 1}
    pool = await BoundedWaitPool(settings.DATABASE_URL, acquire_timeout=5.0, **options)
    order: list[str] = []

    async def take_turn(name: str) -> None:
        connection = await pool.acquire()
        order.append(name)
        await pool.release(connection)

    # The race, made certain: a new request is ready to run at the very moment the held
    # connection goes back into asyncpg's queue, just before the first waiter is woken.
    queue = pool._queue
    put_back = queue.put_nowait
    arrivals: list[asyncio.Task[None]] = []

    def put_back_as_a_newcomer_arrives(holder: object) -> None:
        queue.put_nowait = put_back  # once
        arrivals.append(asyncio.create_task(take_turn("newcomer")))
        put_back(holder)

    try:
        held = await pool.acquire()
        for number in range(5):
            arrivals.append(asyncio.create_task(take_turn(f"waiter {number}")))
            await asyncio.sleep(0.01)  # each is waiting before the next arrives
        queue.put_nowait = put_back_as_a_newcomer_arrives
        await pool.release(held)
        while len(arrivals) < 6 or not all(task.done() for task in arrivals):
            await asyncio.gather(*arrivals)
    finally:
        await pool.close()

    assert order == [f"waiter {number}" for number in range(5)] + ["newcomer"]


def test_the_asyncpg_methods_it_overrides_are_there() -> None:
    """BoundedWaitPool wraps asyncpg's private `Pool._acquire(timeout)` (the step behind
    `acquire()`) and its `release(connection, *, timeout)`; a rename would bypass the turn."""
    acquire = inspect.signature(asyncpg.Pool._acquire)
    assert list(acquire.parameters) == ["self", "timeout"]
    release = inspect.signature(asyncpg.Pool.release)
    assert list(release.parameters) == ["self", "connection", "timeout"]
    assert release.parameters["timeout"].kind is inspect.Parameter.KEYWORD_ONLY
    assert {"min_size", "max_size", "reset"} <= set(_CREATE_POOL_DEFAULTS)
