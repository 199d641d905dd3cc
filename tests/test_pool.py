"""The pool's bounded wait: when every connection is busy, a request gets a 503 with
Retry-After after DB_POOL_ACQUIRE_TIMEOUT instead of queueing without limit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from service.config import Settings
from service.db import tortoise_config
from tests.databases import backend
from tests.servers import running_server
from tests.test_shutdown import create, wait_until_in_flight, writes_held


async def test_a_request_waits_for_a_pooled_connection_only_so_long(
    settings: Settings, tmp_dir: Path
) -> None:
    if backend() == "sqlite":
        credentials = tortoise_config(settings)["connections"]["default"]["credentials"]
        assert "acquire_timeout" not in credentials  # one connection, no pool to wait for
        return
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
