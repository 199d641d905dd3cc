"""Limits on the request target (414) and headers (431), as problem+json, on every path."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from service.api.middleware.request_limits import (
    MAX_HEADER_BYTES,
    MAX_HEADER_COUNT,
    MAX_TARGET_BYTES,
)
from tests.factories import assert_problem, create_note
from tests.servers import Server


async def test_the_longest_valid_query_is_accepted(client: httpx.AsyncClient) -> None:
    note = await create_note(client, text="\U0001f600" * 3)
    q = quote("\U0001f600" * 1_000)  # 1,000 characters of four bytes each, percent-encoded
    response = await client.get(f"/notes?limit=500&order=desc&completed=false&after=0&q={q}")
    assert response.status_code == 200, response.text
    assert response.json() == []
    found = await client.get(f"/notes?q={quote(chr(0x1F600))}")
    assert found.json() == [note]


@pytest.mark.parametrize("path", ["/notes", "/notes/1", "/health/live", "/nothing"])
async def test_a_target_over_the_limit_is_414(client: httpx.AsyncClient, path: str) -> None:
    filler = "a" * (MAX_TARGET_BYTES - len(path) - len("x=") + 1)  # one byte over
    problem = assert_problem(await client.get(f"{path}?x={filler}"), 414, "uri-too-long")
    assert str(MAX_TARGET_BYTES) in problem["detail"]
    at_limit = await client.get(f"{path}?x={filler[:-1]}")
    assert at_limit.status_code != 414


async def test_a_long_q_within_the_target_limit_is_a_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get(f"/notes?q={'x' * 1_001}"), 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", "q"]


async def test_headers_over_the_size_limit_are_431(client: httpx.AsyncClient) -> None:
    response = await client.get("/notes", headers={"x-filler": "v" * MAX_HEADER_BYTES})
    problem = assert_problem(response, 431, "request-header-fields-too-large")
    assert str(MAX_HEADER_BYTES) in problem["detail"]
    # Well under the limit, as a real caller's headers are: served.
    assert (await client.get("/notes", headers={"x-filler": "v" * 8_000})).status_code == 200


async def test_too_many_header_fields_are_431(client: httpx.AsyncClient) -> None:
    headers = [(f"x-h{i}", "v") for i in range(MAX_HEADER_COUNT + 1)]
    response = await client.post("/notes", headers=headers, json={"text": "t"})
    assert_problem(response, 431, "request-header-fields-too-large")
    assert (await client.get("/notes?limit=500")).json() == []


def test_oversized_headers_are_refused_over_real_http(live_server: Server) -> None:
    """uvicorn's parser (httptools) would pass a 200 KB header to the app: the app refuses it."""
    with httpx.Client(base_url=live_server.base_url) as http:
        response = http.get("/notes", headers={"x-filler": "v" * 200_000})
        assert_problem(response, 431, "request-header-fields-too-large")
        assert http.get("/health/live").status_code == 200
