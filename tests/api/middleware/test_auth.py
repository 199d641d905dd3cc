"""API keys over real HTTP: every /notes route needs one, checked before anything else."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import Keys
from tests.factories import assert_problem
from tests.servers import Server

NOTES_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/notes", {"json": {"text": "t"}}),
    ("POST", "/notes/", {"json": {"text": "t"}}),
    ("GET", "/notes", {}),
    ("GET", "/notes/", {}),
    ("GET", "/notes/1", {}),
    ("PATCH", "/notes/1", {"json": {"text": "t"}}),
    ("PUT", "/notes/1/", {"json": {"text": "t", "completed": False}}),
    ("DELETE", "/notes/1", {}),
    # What would otherwise be a 405, 415, 422 or 404: credentials come first.
    ("DELETE", "/notes", {}),
    ("POST", "/notes", {"content": b"hello", "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/notes", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ("GET", "/notes/abc", {}),
    ("GET", "/notes/99999999999", {}),
    ("GET", "/notes?limit=0", {}),
]


@pytest.mark.parametrize(("method", "path", "options"), NOTES_REQUESTS)
def test_without_a_key_every_notes_request_is_401(
    keyed_server: Server, method: str, path: str, options: dict[str, Any]
) -> None:
    response = httpx.request(method, keyed_server.base_url + path, **options)

    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="notes"'


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer nsk_not-a-key",
        "Bearer",
        "Basic YWxwaGE6c2VjcmV0",
        "bearer nsk_" + "x" * 2000,
        "Token abc",
    ],
)
@pytest.mark.parametrize(("method", "path", "options"), NOTES_REQUESTS[:8])
def test_a_wrong_or_malformed_key_is_401_and_never_echoed(
    keyed_server: Server, authorization: str, method: str, path: str, options: dict[str, Any]
) -> None:
    options = dict(options)
    headers = {"Authorization": authorization, **options.pop("headers", {})}
    response = httpx.request(method, keyed_server.base_url + path, headers=headers, **options)

    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith('Bearer realm="notes"')
    token = authorization.partition(" ")[2]
    if token:
        assert token not in response.text


def test_a_wrong_key_is_told_apart_from_a_missing_one(keyed_server: Server) -> None:
    response = httpx.get(
        keyed_server.base_url + "/notes", headers={"Authorization": "Bearer nsk_wrong"}
    )
    assert response.headers["www-authenticate"] == 'Bearer realm="notes", error="invalid_token"'


def test_the_401_comes_before_the_body_is_read(keyed_server: Server) -> None:
    """Headers announce a megabyte that is never sent: the answer comes anyway."""
    address = urlsplit(keyed_server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(
            b"POST /notes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n"
        )
        answer = connection.recv(65536).decode("latin-1")

    assert answer.startswith("HTTP/1.1 401 ")
    assert "application/problem+json" in answer


@pytest.mark.parametrize(
    "path",
    [
        *("/health/live", "/health/ready", "/metrics", "/docs", "/redoc"),
        *("/health/live/", "/health/ready/", "/metrics/", "/docs/", "/redoc/"),
        "/openapi.json",
    ],
)
def test_docs_health_metrics_and_the_openapi_document_need_no_key(
    keyed_server: Server, path: str
) -> None:
    assert httpx.get(keyed_server.base_url + path).status_code == 200


def test_with_a_valid_key_every_operation_works(keyed_server: Server, keys: Keys) -> None:
    with httpx.Client(base_url=keyed_server.base_url, headers=keys.bearer(keys.alpha)) as api:
        created = api.post("/notes", json={"text": "mine"})
        assert created.status_code == 201
        location = created.headers["location"]
        assert api.get(location).status_code == 200
        assert api.get("/notes").json() == [created.json()]
        assert api.patch(location, json={"completed": True}).status_code == 200
        assert api.put(location, json={"text": "x", "completed": False}).status_code == 200
        assert api.delete(location, headers={"If-Match": '"3"'}).status_code == 204


def test_two_keys_of_one_client_work_at_once_for_rotation(keyed_server: Server, keys: Keys) -> None:
    base = keyed_server.base_url
    created = httpx.post(base + "/notes", json={"text": "old key"}, headers=keys.bearer(keys.alpha))
    location = created.headers["location"]

    seen = httpx.get(base + location, headers=keys.bearer(keys.alpha_rotated))

    assert seen.status_code == 200
    assert seen.json() == created.json()


def test_keys_never_reach_the_log(keyed_server: Server, keys: Keys) -> None:
    base = keyed_server.base_url
    wrong = "nsk_wrong-key-that-must-not-be-logged"
    for key in (keys.alpha, keys.alpha_rotated, keys.beta, wrong):
        httpx.get(base + "/notes", headers={"Authorization": f"Bearer {key}"})
        httpx.post(base + "/notes", json={"text": 1}, headers={"Authorization": f"Bearer {key}"})

    log = keyed_server.log()
    assert '"route":"/notes"' in log  # the access log is being written
    for key in (keys.alpha, keys.alpha_rotated, keys.beta, wrong):
        assert key not in log


def test_with_keys_the_start_does_not_warn(keyed_server: Server) -> None:
    assert "Authentication is OFF" not in keyed_server.log()


def test_with_no_keys_the_start_warns_that_authentication_is_off(live_server: Server) -> None:
    assert "Authentication is OFF" in live_server.log()
    assert httpx.get(live_server.base_url + "/notes").status_code == 200


def test_cors_allows_only_the_configured_origin_methods_and_headers(keyed_server: Server) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, if-match, idempotency-key, x-request-id",
    }
    allowed = httpx.options(keyed_server.base_url + "/notes/1", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "if-match", "idempotency-key", "x-request-id"):
        assert header in allowed_headers
    assert "PATCH" in allowed.headers["access-control-allow-methods"]

    other_origin = httpx.options(
        keyed_server.base_url + "/notes/1", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert other_origin.status_code == 400
    assert "access-control-allow-origin" not in other_origin.headers

    other_header = httpx.options(
        keyed_server.base_url + "/notes/1",
        headers={**preflight, "Access-Control-Request-Headers": "x-custom"},
    )
    assert other_header.status_code == 400


def test_cors_exposes_etag_location_and_link(keyed_server: Server, keys: Keys) -> None:
    response = httpx.post(
        keyed_server.base_url + "/notes",
        json={"text": "from a browser"},
        headers={"Origin": "https://app.example", **keys.bearer(keys.alpha)},
    )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "link"} <= exposed


def test_cors_is_closed_when_no_origin_is_configured(live_server: Server) -> None:
    response = httpx.options(
        live_server.base_url + "/notes",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers
    simple = httpx.get(live_server.base_url + "/notes", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in simple.headers
