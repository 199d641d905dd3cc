"""Races between real uvicorn processes on one database: two replicas on PostgreSQL, one on
SQLite (several processes writing one SQLite file is not a supported deployment).

Each race runs ROUNDS times with WRITERS concurrent requests split over the replicas, so a
check-then-act bug (read the version, then write) would show up as two winners.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from tests.servers import Server

ROUNDS = 25
WRITERS = 20


@pytest.fixture
async def clients(replicas: list[Server]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=server.base_url,
                    timeout=30,
                    limits=httpx.Limits(max_connections=WRITERS),
                )
            )
            for server in replicas
        ]


async def split(
    clients: list[httpx.AsyncClient], method: str, path: str, bodies: list[Any], **headers: str
) -> list[httpx.Response]:
    """Send one request per body at once, round-robin over the replicas."""
    header_fields = {name.replace("_", "-"): value for name, value in headers.items()}
    return await asyncio.gather(
        *(
            clients[index % len(clients)].request(method, path, json=body, headers=header_fields)
            for index, body in enumerate(bodies)
        )
    )


async def new_note(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/notes", json={"text": "contended"})
    assert response.status_code == 201
    note: dict[str, Any] = response.json()
    return note


async def test_of_concurrent_if_match_writers_holding_one_etag_exactly_one_wins(
    clients: list[httpx.AsyncClient],
) -> None:
    for _ in range(ROUNDS):
        note = await new_note(clients[0])
        bodies = [{"text": f"writer {index}"} for index in range(WRITERS)]

        responses = await split(clients, "PATCH", f"/notes/{note['id']}", bodies, If_Match='"1"')

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [412] * (WRITERS - 1)
        (winner,) = (response for response in responses if response.status_code == 200)
        stored = (await clients[-1].get(f"/notes/{note['id']}")).json()
        assert stored == winner.json()
        assert stored["version"] == 2


async def test_of_concurrent_if_match_deletes_exactly_one_wins(
    clients: list[httpx.AsyncClient],
) -> None:
    for _ in range(ROUNDS):
        note = await new_note(clients[0])

        responses = await split(
            clients, "DELETE", f"/notes/{note['id']}", [None] * WRITERS, If_Match='"1"'
        )

        statuses = sorted(response.status_code for response in responses)
        # The losers see either the changed version (412) or the note already gone (404).
        assert statuses[0] == 204
        assert set(statuses[1:]) <= {404, 412}
        assert (await clients[0].get(f"/notes/{note['id']}")).status_code == 404


async def test_concurrent_unconditional_writes_each_bump_the_version_once(
    clients: list[httpx.AsyncClient],
) -> None:
    for _ in range(ROUNDS // 5):
        note = await new_note(clients[0])
        bodies = [{"text": f"writer {index}"} for index in range(WRITERS)]

        responses = await split(clients, "PATCH", f"/notes/{note['id']}", bodies)

        assert {response.status_code for response in responses} == {200}
        versions = sorted(response.json()["version"] for response in responses)
        assert versions == list(range(2, WRITERS + 2))
        stored = (await clients[0].get(f"/notes/{note['id']}")).json()
        assert stored["version"] == WRITERS + 1


async def test_concurrent_retries_of_one_idempotency_key_create_exactly_one_note(
    clients: list[httpx.AsyncClient],
) -> None:
    for _ in range(ROUNDS):
        text = f"retried {uuid.uuid4()}"
        key = str(uuid.uuid4())

        responses = await split(
            clients, "POST", "/notes", [{"text": text}] * WRITERS, Idempotency_Key=key
        )

        assert {response.status_code for response in responses} == {201}
        assert len({response.content for response in responses}) == 1
        assert len({response.headers["location"] for response in responses}) == 1
        found = (await clients[0].get("/notes", params={"q": text})).json()
        assert len(found) == 1
