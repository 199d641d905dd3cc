"""Idempotency-Key on POST /notes, through the app on both backends."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.factories import assert_problem


async def post(client: httpx.AsyncClient, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await client.post("/notes", json=body, headers=headers)


async def note_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/notes", params={"limit": 500})).json())


def new_key() -> str:
    return str(uuid.uuid4())


async def test_a_retry_with_the_same_key_and_body_replays_the_first_201(
    client: httpx.AsyncClient,
) -> None:
    key = new_key()
    first = await post(client, {"text": "once", "completed": True}, key)
    retry = await post(client, {"text": "once", "completed": True}, key)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    for header in ("location", "etag", "content-type"):
        assert retry.headers[header] == first.headers[header]
    assert await note_count(client) == 1


@pytest.mark.parametrize(
    "retried_body",
    [
        {"completed": False, "text": "same"},  # another key order
        {"text": "same"},  # an omitted field counts as its default
    ],
)
async def test_the_body_is_compared_as_parsed_json(
    client: httpx.AsyncClient, retried_body: dict[str, Any]
) -> None:
    key = new_key()
    first = await client.post(
        "/notes",
        content=b'{"text": "same", "completed": false}',
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    retry = await post(client, retried_body, key)

    assert retry.status_code == 201
    assert retry.content == first.content
    assert await note_count(client) == 1


@pytest.mark.parametrize(
    "other_body", [{"text": "other"}, {"text": "same", "completed": True}, {"text": "same "}]
)
async def test_the_same_key_with_another_body_is_422_and_creates_nothing(
    client: httpx.AsyncClient, other_body: dict[str, Any]
) -> None:
    key = new_key()
    await post(client, {"text": "same"}, key)

    response = await post(client, other_body, key)

    problem = assert_problem(response, 422, "idempotency-key-reused")
    assert problem["errors"] == [
        {
            "loc": ["header", "idempotency-key"],
            "msg": "The key is bound to a create with another body",
            "type": "idempotency_key_reused",
        }
    ]
    assert await note_count(client) == 1


async def test_the_original_answer_is_replayed_after_the_note_changed_or_was_deleted(
    client: httpx.AsyncClient,
) -> None:
    key = new_key()
    first = await post(client, {"text": "original"}, key)
    location = first.headers["location"]

    assert (await client.patch(location, json={"text": "edited"})).status_code == 200
    after_edit = await post(client, {"text": "original"}, key)
    assert after_edit.content == first.content
    assert after_edit.headers["etag"] == '"1"'

    assert (await client.delete(location)).status_code == 204
    after_delete = await post(client, {"text": "original"}, key)
    assert after_delete.status_code == 201
    assert after_delete.content == first.content
    assert after_delete.headers["location"] == location
    assert await note_count(client) == 0


async def test_only_a_successful_create_binds_a_key(client: httpx.AsyncClient) -> None:
    key = new_key()
    refused = await post(client, {"text": ""}, key)
    assert_problem(refused, 422, "validation-error")

    created = await post(client, {"text": "valid now"}, key)

    assert created.status_code == 201
    assert created.json()["text"] == "valid now"


async def test_keys_are_independent_and_requests_without_one_always_create(
    client: httpx.AsyncClient,
) -> None:
    a = await post(client, {"text": "x"}, "key-a")
    b = await post(client, {"text": "x"}, "key-b")
    plain = [await post(client, {"text": "x"}) for _ in range(2)]

    ids = {a.json()["id"], b.json()["id"], *(response.json()["id"] for response in plain)}
    assert len(ids) == 4


@pytest.mark.parametrize(
    "key",
    ["k", "a b c", " !~", "x" * 255, 'quotes "and" {json}', "9f1e-uuid-like"],
)
async def test_keys_of_1_to_255_printable_ascii_characters_are_accepted(
    client: httpx.AsyncClient, key: str
) -> None:
    first = await post(client, {"text": "t"}, key)
    retry = await post(client, {"text": "t"}, key)
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content


@pytest.mark.parametrize(
    "raw_key",
    [b"", b"x" * 256, "caf\u00e9".encode("latin-1"), "\u00e9t\u00e9".encode(), b"tab\there"],
)
async def test_a_malformed_key_is_422_and_creates_nothing(
    client: httpx.AsyncClient, raw_key: bytes
) -> None:
    response = await client.post(
        "/notes",
        json={"text": "t"},
        headers=[(b"Idempotency-Key", raw_key)],
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["header", "idempotency-key"]
    assert await note_count(client) == 0


async def test_concurrent_retries_in_one_process_create_one_note(
    client: httpx.AsyncClient,
) -> None:
    key = new_key()
    responses = await asyncio.gather(*(post(client, {"text": "race"}, key) for _ in range(20)))

    assert {response.status_code for response in responses} == {201}
    assert len({response.content for response in responses}) == 1
    assert await note_count(client) == 1
