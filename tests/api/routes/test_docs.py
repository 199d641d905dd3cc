"""The docs UI is served by the service itself: no CDN, and right under a path prefix."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from service.api.routes.docs import ASSETS_PATH
from service.config import Settings
from service.main import create_app

URL_ATTRIBUTE = re.compile(r'(?:src|href|spec-url|data-[a-z-]+-url)="([^"]*)"')


@pytest.fixture
async def prefixed(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a proxy that adds /api in front of it would present it."""
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_everything_from_the_service(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = URL_ATTRIBUTE.findall(response.text)
    assert urls, "the page references its assets"
    for url in urls:
        assert url.startswith("/"), url  # no other host, no protocol-relative URL
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content
    assert "<script>" not in response.text  # no inline script


@pytest.mark.parametrize(
    ("asset", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-init.js", "text/javascript"),
        ("redoc-init.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "text/javascript"),
        ("favicon.png", "image/png"),
    ],
)
async def test_assets_are_served_with_their_media_types(
    client: httpx.AsyncClient, asset: str, media_type: str
) -> None:
    response = await client.get(f"{ASSETS_PATH}/{asset}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


async def test_assets_hold_no_reference_to_a_cdn(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        text = (await client.get(page)).text
        assert not re.search(r"cdn\.|jsdelivr|unpkg|googleapis", text)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_behind_a_path_prefix_every_url_carries_it(
    prefixed: httpx.AsyncClient, page: str
) -> None:
    response = await prefixed.get(f"/api{page}")

    assert response.status_code == 200
    urls = URL_ATTRIBUTE.findall(response.text)
    assert urls
    assert all(url.startswith("/api/") for url in urls), urls
    for url in urls:
        assert (await prefixed.get(url)).status_code == 200, url


@pytest.fixture
async def behind_stripping_proxy(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """ROOT_PATH=/api with a proxy that forwards /api/x as /x (the docs need no lifespan)."""
    app = create_app(settings.model_copy(update={"ROOT_PATH": "/api"}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_behind_a_proxy_that_strips_root_path_every_asset_is_served(
    behind_stripping_proxy: httpx.AsyncClient, page: str
) -> None:
    response = await behind_stripping_proxy.get(page)

    assert response.status_code == 200
    urls = URL_ATTRIBUTE.findall(response.text)
    assert urls
    assert all(url.startswith("/api/") for url in urls), urls
    for url in urls:
        forwarded = url.removeprefix("/api")
        assert (await behind_stripping_proxy.get(forwarded)).status_code == 200, url
    document = (await behind_stripping_proxy.get("/openapi.json")).json()
    assert document["servers"] == [{"url": "/api"}]  # "Try it out" calls go through the proxy


async def test_an_unchanged_asset_is_a_304(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{ASSETS_PATH}/swagger-ui.css")
    again = await client.get(
        f"{ASSETS_PATH}/swagger-ui.css", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["nope.js", "..%2F..%2Fdocs.py", "%2E%2E"])
async def test_an_unknown_asset_is_a_404_problem(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"{ASSETS_PATH}/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
