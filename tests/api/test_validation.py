"""Bad bodies and ids get a 422 problem with one `errors` entry per field, and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import assert_problem, create_note


async def stored_notes(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = (await client.get("/notes?limit=500")).json()
    return notes


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"text": "a\u0000b"}, ["body", "text"], "text_nul"),
        ({"text": "   "}, ["body", "text"], "text_blank"),
        ({"text": ""}, ["body", "text"], "text_blank"),
        ({"text": "x" * 10_001}, ["body", "text"], "string_too_long"),
        ({"text": None}, ["body", "text"], "null_not_allowed"),
        ({"text": "t", "completed": None}, ["body", "completed"], "null_not_allowed"),
        ({"text": "t", "completed": "true"}, ["body", "completed"], "bool_type"),
        ({"text": "t", "completed": 1}, ["body", "completed"], "bool_type"),
        ({"text": 12}, ["body", "text"], "string_type"),
        ({"text": "t", "id": 5}, ["body", "id"], "extra_forbidden"),
        ({"text": "t", "version": 9}, ["body", "version"], "extra_forbidden"),
        (
            {"text": "t", "created_at": "2026-01-01T00:00:00Z"},
            ["body", "created_at"],
            "extra_forbidden",
        ),
        ({"completed": True}, ["body", "text"], "missing"),
    ],
)
async def test_invalid_create_bodies_are_422_and_store_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], loc: list[str], error_type: str
) -> None:
    problem = assert_problem(await client.post("/notes", json=body), 422, "validation-error")
    assert problem["errors"] == [
        {"loc": loc, "msg": problem["errors"][0]["msg"], "type": error_type}
    ]
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    "raw",
    [b'{"text": "a\\ud800"}', b'{"text": "\\udfff"}'],
    ids=["high-surrogate", "low-surrogate"],
)
async def test_lone_surrogates_are_422_on_every_backend(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    response = await client.post(
        "/notes", content=raw, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body", "text"]
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"text": "a",}', b"\xff\xfe{}", b""],
    ids=["open", "word", "comma", "utf8", "empty"],
)
async def test_malformed_json_is_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/notes", content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation-error")
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PATCH", {"text": None}),
        ("PATCH", {"completed": "false"}),
        ("PATCH", {"text": "\u0000"}),
        ("PATCH", {"version": 3}),
        ("PUT", {"text": "t"}),
        ("PUT", {"text": "t", "completed": True, "id": 1}),
    ],
)
async def test_invalid_changes_are_422_and_change_nothing(
    client: httpx.AsyncClient, method: str, body: dict[str, Any]
) -> None:
    note = await create_note(client)
    response = await client.request(method, f"/notes/{note['id']}", json=body)
    assert_problem(response, 422, "validation-error")
    assert (await client.get(f"/notes/{note['id']}")).json() == note


@pytest.mark.parametrize("note_id", ["0", "-1", "2147483648", "9223372036854775808", "abc", "1.5"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_ids_outside_the_integer_range_are_422_never_500(
    client: httpx.AsyncClient, method: str, note_id: str
) -> None:
    body = {"text": "t", "completed": True} if method in ("PATCH", "PUT") else None
    response = await client.request(method, f"/notes/{note_id}", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["path", "note_id"]


async def test_errors_never_echo_the_input(client: httpx.AsyncClient) -> None:
    secret = "s3cr3t-value-" + "y" * 10_000
    response = await client.post("/notes", json={"text": secret})
    assert_problem(response, 422, "validation-error")
    assert "s3cr3t" not in response.text


async def test_an_unknown_key_with_a_lone_surrogate_gets_a_clean_422(
    client: httpx.AsyncClient,
) -> None:
    raw = b'{"text": "t", "\\ud800": 1}'
    response = await client.post(
        "/notes", content=raw, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["type"] == "string_unicode"
