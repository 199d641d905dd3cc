"""SIGTERM to a real uvicorn while requests are in flight: it stops accepting, lets them
finish, closes the pool and exits 0; SHUTDOWN_GRACE_SECONDS bounds the wait.

A request is made slow the way production makes it slow: another connection holds a lock
the request's INSERT must wait for (PostgreSQL: a table lock; SQLite: the write lock).
"""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from tests.databases import backend, connect_to
from tests.servers import Server, running_server

pytestmark = pytest.mark.live

SLOW_REQUESTS = 3


@asynccontextmanager
async def writes_held(settings: Settings) -> AsyncIterator[None]:
    """Until the block ends, every INSERT into notes waits (on either backend)."""
    if backend() == "sqlite":
        path = settings.DATABASE_URL.removeprefix("sqlite://")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the service's writes wait (its busy timeout: 5 s)
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        connection = await connect_to(settings.DATABASE_URL)
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("LOCK TABLE notes IN SHARE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
            await connection.close()


def create(base_url: str, text: str) -> httpx.Response:
    return httpx.post(base_url + "/notes", json={"text": text}, timeout=30)


async def wait_until_in_flight(server: Server, count: int) -> None:
    for _ in range(200):
        metrics = await asyncio.to_thread(httpx.get, server.base_url + "/metrics")
        found = re.search(r"^http_requests_in_flight (\S+)$", metrics.text, re.MULTILINE)
        if found and float(found.group(1)) >= count + 1:  # + the scrape itself
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} requests never were in flight together")


async def test_sigterm_lets_in_flight_requests_finish_and_exits_0(
    settings: Settings, tmp_dir: Path, client: httpx.AsyncClient
) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "SHUTDOWN_GRACE_SECONDS": "20"}
    with running_server(env, tmp_dir) as server:
        async with writes_held(settings):
            slow = [
                asyncio.create_task(asyncio.to_thread(create, server.base_url, f"slow {n}"))
                for n in range(SLOW_REQUESTS)
            ]
            await wait_until_in_flight(server, SLOW_REQUESTS)
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert server.process.poll() is None  # still finishing
            with pytest.raises(httpx.ConnectError):  # but no longer accepting
                await asyncio.to_thread(httpx.get, server.base_url + "/health/live", timeout=2)
        responses = await asyncio.gather(*slow)
        exit_code = await asyncio.to_thread(server.process.wait, 20)
        log = server.log()

    assert [response.status_code for response in responses] == [201] * SLOW_REQUESTS
    for response in responses:
        stored = await client.get(response.headers["Location"])
        assert stored.json()["text"] == response.json()["text"]
    assert exit_code == 0
    assert "Waiting for connections to close" in log
    assert "timeout graceful shutdown exceeded" not in log
    assert "Application shutdown complete" in log  # the lifespan ran: the pool is closed


async def test_in_flight_requests_are_cut_after_the_grace_period(
    settings: Settings, tmp_dir: Path
) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "SHUTDOWN_GRACE_SECONDS": "1"}
    with running_server(env, tmp_dir) as server:
        async with writes_held(settings):
            slow = asyncio.create_task(asyncio.to_thread(create, server.base_url, "too slow"))
            await wait_until_in_flight(server, 1)
            server.process.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(server.process.wait, 15)
        try:
            cut: httpx.Response | None = await slow
        except httpx.HTTPError:
            cut = None  # the connection closed without an answer
        log = server.log()

    assert cut is None or cut.status_code == 500  # uvicorn's answer to a cancelled request
    assert exit_code == 0
    assert "timeout graceful shutdown exceeded" in log
