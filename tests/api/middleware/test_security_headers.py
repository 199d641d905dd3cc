"""Hardening headers on every response: API, errors, docs, assets; no server banner."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from service.api.middleware.security_headers import (
    API_POLICY,
    DOCS_POLICY,
)
from tests.api.conftest import Keys
from tests.api.middleware import add_edge
from tests.servers import Server

API_REQUESTS = [
    ("GET", "/notes", None),  # 200
    ("POST", "/notes", {"text": ""}),  # 422
    ("GET", "/notes/424242", None),  # 404
    ("DELETE", "/notes", None),  # 405
    ("GET", "/no/such/path", None),  # 404
    ("GET", "/health/live", None),
    ("GET", "/openapi.json", None),
    ("GET", "/docs-assets/swagger-ui.css", None),
]


def assert_hardened(response: httpx.Response, policy: str) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == policy
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(("method", "path", "body"), API_REQUESTS)
async def test_every_api_response_forbids_sniffing_and_any_content(
    client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    response = await client.request(method, path, json=body)
    assert_hardened(response, API_POLICY)


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/", "/redoc/"])
async def test_the_docs_pages_get_a_policy_for_self_hosted_scripts_only(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert_hardened(response, DOCS_POLICY)
    assert "script-src 'self';" in DOCS_POLICY  # no inline, no other host


def test_a_401_is_hardened_too_and_no_response_names_the_server(
    keyed_server: Server, keys: Keys
) -> None:
    refused = httpx.get(keyed_server.base_url + "/notes")
    assert refused.status_code == 401
    assert_hardened(refused, API_POLICY)
    allowed = httpx.get(keyed_server.base_url + "/notes", headers=keys.bearer(keys.alpha))
    docs = httpx.get(keyed_server.base_url + "/docs")
    for response in (refused, allowed, docs):
        assert "server" not in response.headers


async def test_an_unexpected_error_is_hardened_too() -> None:
    """The 500 that the edge writes for an unexpected error is hardened like any answer."""
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    add_edge(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    assert_hardened(response, API_POLICY)
