"""Small helpers that make test data through the public API."""

from __future__ import annotations

from typing import Any

import httpx


async def create_note(
    client: httpx.AsyncClient,
    *,
    text: str = "Remember to learn async DB calls!",
    completed: bool = False,
) -> dict[str, Any]:
    response = await client.post("/notes", json={"text": text, "completed": completed})
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is application/problem+json with this status and type; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body
