"""If-Match on PATCH, PUT and DELETE, and REQUIRE_IF_MATCH, through the app on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.factories import assert_problem, create_note

WRITES: list[tuple[str, dict[str, Any] | None]] = [
    ("PATCH", {"text": "changed"}),
    ("PUT", {"text": "changed", "completed": True}),
    ("DELETE", None),
]


async def write(
    client: httpx.AsyncClient,
    method: str,
    note_id: int,
    body: dict[str, Any] | None,
    **headers: str,
) -> httpx.Response:
    return await client.request(
        method,
        f"/notes/{note_id}",
        json=body,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


async def assert_unchanged(client: httpx.AsyncClient, note: dict[str, Any]) -> None:
    response = await client.get(f"/notes/{note['id']}")
    assert response.status_code == 200
    assert response.json() == note


@pytest.mark.parametrize(("method", "body"), WRITES)
@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', '"7","1"', "*", ' "1" '])
async def test_a_matching_if_match_lets_the_write_through(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None, if_match: str
) -> None:
    note = await create_note(client)

    response = await write(client, method, note["id"], body, If_Match=if_match)

    if method == "DELETE":
        assert response.status_code == 204
        assert (await client.get(f"/notes/{note['id']}")).status_code == 404
    else:
        assert response.status_code == 200
        assert response.json()["version"] == 2
        assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize(("method", "body"), WRITES)
@pytest.mark.parametrize(
    "if_match",
    [
        '"2"',  # an old or future version
        'W/"1"',  # weak tags never match
        "1",  # unquoted
        '"01"',
        '"abc"',
        '""',
        '"1',
        '"7", *',  # `*` means any only when it stands alone
        '"99999999999999999999"',
        "",
    ],
)
async def test_a_mismatch_is_412_and_changes_nothing(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None, if_match: str
) -> None:
    note = await create_note(client)

    response = await write(client, method, note["id"], body, If_Match=if_match)

    assert_problem(response, 412, "precondition-failed")
    await assert_unchanged(client, note)


@pytest.mark.parametrize(("method", "body"), WRITES)
@pytest.mark.parametrize("if_match", ['"1"', "*", 'W/"1"'])
async def test_a_missing_note_is_404_whatever_if_match_says(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None, if_match: str
) -> None:
    response = await write(client, method, 424242, body, If_Match=if_match)
    assert_problem(response, 404, "not-found")


async def test_each_change_gets_a_new_etag_that_the_next_write_must_use(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client)
    first = await write(client, "PATCH", note["id"], {"text": "one"}, If_Match='"1"')
    assert first.headers["etag"] == '"2"'

    stale = await write(
        client, "PUT", note["id"], {"text": "two", "completed": False}, If_Match='"1"'
    )
    assert_problem(stale, 412, "precondition-failed")

    fresh = await write(
        client,
        "PUT",
        note["id"],
        {"text": "two", "completed": False},
        If_Match=first.headers["etag"],
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"3"'
    assert fresh.json()["text"] == "two"


async def test_a_write_that_changes_nothing_keeps_the_etag_when_it_matches(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client, text="same")
    response = await write(client, "PATCH", note["id"], {"text": "same"}, If_Match='"1"')
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize(("method", "body"), WRITES)
async def test_require_if_match_makes_a_missing_if_match_428(
    client: httpx.AsyncClient,
    override_settings: Callable[..., None],
    method: str,
    body: dict[str, Any] | None,
) -> None:
    override_settings(REQUIRE_IF_MATCH=True)
    note = await create_note(client)

    refused = await write(client, method, note["id"], body)
    assert_problem(refused, 428, "precondition-required")
    await assert_unchanged(client, note)

    missing = await write(client, method, 424242, body)
    assert_problem(missing, 404, "not-found")

    allowed = await write(client, method, note["id"], body, If_Match='"1"')
    assert allowed.status_code in (200, 204)


async def test_without_require_if_match_a_write_without_it_is_unconditional(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client)
    await write(client, "PATCH", note["id"], {"text": "by someone else"})

    response = await write(client, "PATCH", note["id"], {"completed": True})

    assert response.status_code == 200
    assert response.json() == {**response.json(), "text": "by someone else", "version": 3}
