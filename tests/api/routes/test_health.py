"""Liveness and readiness: the database answers, the schema is current, and not shutting down.

(A database that does not answer: tests/test_outage.py, on a cluster it may stop.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aerich.models import Aerich

from service.db import APP_LABEL
from service.draining import begin_draining, end_draining
from service.migrate import migration_files
from tests.factories import assert_problem


async def test_live_and_ready_answer_200(client: httpx.AsyncClient) -> None:
    live, ready = await client.get("/health/live"), await client.get("/health/ready")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


@pytest.fixture
async def last_migration_forgotten() -> AsyncIterator[str]:
    """The database as if the code's newest migration had not been applied yet."""
    newest = await Aerich.get(app=APP_LABEL, version=migration_files()[-1])
    await newest.delete()
    try:
        yield newest.version
    finally:
        await Aerich.create(app=newest.app, version=newest.version, content=newest.content)


async def test_ready_is_503_naming_migrations_not_applied(
    client: httpx.AsyncClient, last_migration_forgotten: str
) -> None:
    response = await client.get("/health/ready")
    body = assert_problem(response, 503, "not-ready")
    assert last_migration_forgotten in body["detail"]
    assert "1 migration(s) not applied" in body["detail"]
    assert response.headers["Retry-After"] == "5"


async def test_ready_is_503_as_soon_as_shutdown_begins(client: httpx.AsyncClient) -> None:
    begin_draining()  # what the server does when SIGTERM arrives (service.cli.DrainingServer)
    try:
        response = await client.get("/health/ready")
        live = await client.get("/health/live")
    finally:
        end_draining()
    body = assert_problem(response, 503, "not-ready")
    assert body["detail"] == "The service is shutting down."
    assert live.status_code == 200  # alive until it exits: no restart while draining
    assert (await client.get("/health/ready")).status_code == 200
