"""Request bodies: 415 for a non-JSON media type, 413 past the limit (declared or streamed),
in the SPEC's order of checks, and nothing stored or changed by a refused request."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.api.conftest import Keys
from tests.factories import assert_problem, create_note
from tests.servers import Server, running_server

LIMIT = 65_536
JSON = {"content-type": "application/json"}


def body_of_size(size: int, text: str = "limit") -> bytes:
    """A valid note body of exactly `size` bytes: padded with whitespace, which JSON allows."""
    compact = json.dumps({"text": text}).encode()
    return compact + b" " * (size - len(compact))


async def stored(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = (await client.get("/notes?limit=500")).json()
    return notes


async def in_chunks(body: bytes, size: int = 4_096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_body_of_exactly_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", content=body_of_size(LIMIT), headers=JSON)
    assert response.status_code == 201, response.text


async def test_one_byte_over_the_limit_is_413_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/notes", content=body_of_size(LIMIT + 1), headers=JSON)
    problem = assert_problem(response, 413, "payload-too-large")
    assert "65536" in problem["detail"]
    assert await stored(client) == []


async def test_chunked_bodies_are_counted_while_they_stream(client: httpx.AsyncClient) -> None:
    accepted = await client.post("/notes", content=in_chunks(body_of_size(LIMIT)), headers=JSON)
    assert accepted.status_code == 201, accepted.text
    refused = await client.post("/notes", content=in_chunks(body_of_size(LIMIT + 1)), headers=JSON)
    assert_problem(refused, 413, "payload-too-large")
    assert len(await stored(client)) == 1


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_oversized_changes_are_413_and_change_nothing(
    client: httpx.AsyncClient, method: str
) -> None:
    note = await create_note(client)
    body = body_of_size(LIMIT + 1, text="changed")
    response = await client.request(method, f"/notes/{note['id']}", content=body, headers=JSON)
    assert_problem(response, 413, "payload-too-large")
    assert (await client.get(f"/notes/{note['id']}")).json() == note


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "application/json; charset=latin-1",
        "json",
        "",
    ],
)
async def test_a_body_that_is_not_json_is_415_and_stores_nothing(
    client: httpx.AsyncClient, content_type: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/notes", content=b'{"text": "t"}', headers=headers)
    problem = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in problem["detail"]
    assert await stored(client) == []


@pytest.mark.parametrize(
    ("method", "content_type"),
    [
        ("POST", "application/json; charset=utf-8"),
        ("POST", "Application/JSON"),
        ("POST", "application/vnd.notes+json"),
        ("PATCH", "application/merge-patch+json"),
        ("PUT", 'application/json; charset="UTF-8"'),
    ],
)
async def test_json_media_types_are_accepted(
    client: httpx.AsyncClient, method: str, content_type: str
) -> None:
    body = b'{"text": "json", "completed": true}'
    if method == "POST":
        response = await client.post("/notes", content=body, headers={"content-type": content_type})
        assert response.status_code == 201, response.text
    else:
        note = await create_note(client)
        response = await client.request(
            method, f"/notes/{note['id']}", content=body, headers={"content-type": content_type}
        )
        assert response.status_code == 200, response.text
    assert response.json()["text"] == "json"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_a_request_without_a_body_needs_no_content_type_and_gets_422(
    client: httpx.AsyncClient, method: str
) -> None:
    note = await create_note(client)
    path = "/notes" if method == "POST" else f"/notes/{note['id']}"
    problem = assert_problem(await client.request(method, path), 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body"]
    assert problem["errors"][0]["type"] == "missing"
    assert await stored(client) == [note]


async def test_415_comes_before_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/notes", content=body_of_size(LIMIT + 1), headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported-media-type")


async def test_413_comes_before_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", content=b"{" * (LIMIT + 1), headers=JSON)
    assert_problem(response, 413, "payload-too-large")


@pytest.mark.parametrize("path", ["/notes/1", "/notes/1/", "/notes/abc"])
async def test_405_comes_before_415_and_413(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(
        path, content=body_of_size(LIMIT + 1), headers={"content-type": "text/plain"}
    )
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, PUT, PATCH, DELETE"


async def test_an_unknown_path_is_404_whatever_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/nothing", content=body_of_size(LIMIT + 1), headers={"content-type": "text/plain"}
    )
    assert_problem(response, 404, "not-found")


@pytest.mark.live
def test_the_limit_is_the_max_body_bytes_setting(settings: Settings, tmp_dir: Path) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "MAX_BODY_BYTES": "2048"}
    with running_server(env, tmp_dir) as server, httpx.Client(base_url=server.base_url) as http:
        at_limit = http.post("/notes", content=body_of_size(2048), headers=JSON)
        over = http.post("/notes", content=body_of_size(2049), headers=JSON)
    assert at_limit.status_code == 201
    assert_problem(over, 413, "payload-too-large")


def raw_exchange(server: Server, head: bytes, body: bytes = b"") -> bytes:
    """Send a request head and part of a body, then read the answer without sending the rest."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65_536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    live_server: Server,
) -> None:
    head = (
        b"POST /notes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n"
    )
    answer = raw_exchange(live_server, head)  # a gigabyte promised, nothing sent
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"application/problem+json" in answer


def test_a_chunked_body_is_refused_at_the_first_byte_over_without_waiting_for_its_end(
    live_server: Server,
) -> None:
    head = (
        b"POST /notes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    payload = b"[" * (LIMIT + 1)
    chunk = f"{len(payload):x}\r\n".encode() + payload + b"\r\n"  # no terminating chunk
    answer = raw_exchange(live_server, head, chunk)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_401_comes_before_405_415_and_413(keyed_server: Server, keys: Keys) -> None:
    body = body_of_size(LIMIT + 1)
    with httpx.Client(base_url=keyed_server.base_url) as http:
        for method, path in (("PUT", "/notes"), ("POST", "/notes"), ("PATCH", "/notes/1")):
            response = http.request(
                method, path, content=body, headers={"content-type": "text/plain"}
            )
            assert_problem(response, 401, "unauthorized")
        with_key = http.post(
            "/notes",
            content=body,
            headers={"content-type": "text/plain", **keys.bearer(keys.alpha)},
        )
    assert_problem(with_key, 415, "unsupported-media-type")
