"""Forgetting idempotency keys past retention: the purge, and the service running it."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from service.idempotency import PURGE_BATCH_SIZE, purge_expired
from service.models import IdempotentCreate
from tests.factories import assert_problem
from tests.servers import running_server


async def make_keys(count: int, age: timedelta, prefix: str) -> None:
    created_at = datetime.now(UTC) - age
    await IdempotentCreate.bulk_create(
        [
            IdempotentCreate(
                owner="anonymous",
                key=f"{prefix}-{index}",
                fingerprint="0" * 64,
                note_id=index + 1,
                response_body='{"version": 1}',
                created_at=created_at,
            )
            for index in range(count)
        ]
    )


async def test_purge_forgets_every_key_past_retention_and_keeps_the_rest() -> None:
    expired = PURGE_BATCH_SIZE * 2 + 7  # more than one batch
    await make_keys(expired, timedelta(hours=25), "old")
    await make_keys(3, timedelta(hours=23), "young")

    assert await purge_expired(timedelta(hours=24)) == expired

    remaining = await IdempotentCreate.all().order_by("key").values_list("key", flat=True)
    assert [str(key) for key in remaining] == ["young-0", "young-1", "young-2"]
    assert await purge_expired(timedelta(hours=24)) == 0


async def test_a_purged_key_can_bind_a_new_create_and_a_kept_one_cannot(
    client: httpx.AsyncClient,
) -> None:
    old, recent = str(uuid.uuid4()), str(uuid.uuid4())
    first = await client.post("/notes", json={"text": "old"}, headers={"Idempotency-Key": old})
    await client.post("/notes", json={"text": "recent"}, headers={"Idempotency-Key": recent})
    await IdempotentCreate.filter(key=old).update(created_at=datetime.now(UTC) - timedelta(days=2))

    assert await purge_expired(timedelta(hours=24)) == 1

    reused = await client.post("/notes", json={"text": "new"}, headers={"Idempotency-Key": old})
    assert reused.status_code == 201
    assert reused.json()["id"] != first.json()["id"]
    kept = await client.post("/notes", json={"text": "new"}, headers={"Idempotency-Key": recent})
    assert_problem(kept, 422, "idempotency-key-reused")


@pytest.mark.live
async def test_the_running_service_purges_expired_keys_by_itself(
    settings: Settings, tmp_dir: Path
) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "IDEMPOTENCY_PURGE_INTERVAL_SECONDS": "0.1"}
    with running_server(env, tmp_dir) as server:
        key = str(uuid.uuid4())
        response = httpx.post(
            f"{server.base_url}/notes", json={"text": "t"}, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 201
        await IdempotentCreate.filter(key=key).update(
            created_at=datetime.now(UTC) - timedelta(hours=25)
        )

        deadline = time.monotonic() + 10
        while await IdempotentCreate.exists(key=key):
            assert time.monotonic() < deadline, "the service did not purge the expired key"
            await asyncio.sleep(0.05)
