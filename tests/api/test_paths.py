"""Every route answers with and without a trailing slash (no redirects), documented once."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.api.middleware.security_headers import API_POLICY, DOCS_POLICY
from service.api.paths import serving_route

OPERATIONS_PATHS = ["/health/live", "/health/ready", "/metrics", "/docs", "/redoc"]


def test_every_documented_operation_is_served_with_a_trailing_slash_too(app: FastAPI) -> None:
    document: dict[str, Any] = app.openapi()
    for template, operations in document["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in operations:
            scope = {"type": "http", "method": method.upper(), "path": path + "/", "root_path": ""}
            assert serving_route(app.router.routes, scope), f"{method.upper()} {template}/"


@pytest.mark.parametrize("path", OPERATIONS_PATHS)
async def test_operations_paths_answer_with_a_trailing_slash_too(
    client: httpx.AsyncClient, path: str
) -> None:
    plain, slashed = await client.get(path), await client.get(path + "/")

    assert slashed.status_code == plain.status_code == 200
    assert slashed.headers["content-type"] == plain.headers["content-type"]
    policy = DOCS_POLICY if path in ("/docs", "/redoc") else API_POLICY
    assert slashed.headers["content-security-policy"] == policy
    if path != "/metrics":  # the scrape counts itself
        assert slashed.content == plain.content


def test_each_path_is_documented_once_in_its_form_without_a_slash(app: FastAPI) -> None:
    document: dict[str, Any] = app.openapi()
    paths = set(document["paths"])
    assert not [path for path in paths if path.endswith("/")]
    assert {"/health/live", "/health/ready", "/metrics"} <= paths


@pytest.mark.parametrize("path", ["/openapi.json", "/docs-assets/swagger-ui.css"])
async def test_file_names_are_not_served_with_a_trailing_slash(
    client: httpx.AsyncClient, path: str
) -> None:
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path + "/")).status_code == 404
