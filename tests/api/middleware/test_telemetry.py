"""Request ids, the JSON access log and Prometheus metrics, through the app and its database."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.api.error_handlers import install_error_handlers
from service.logs import configure_logging, flush_logs
from tests.api.middleware import add_edge
from tests.databases import backend
from tests.factories import create_note

SECRET_KEY = "nsk_this-key-must-never-be-logged"
SECRET_TEXT = "note text that must never be logged 7f3a"


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every line written to stdout, each of which must be one JSON object."""
    flush_logs()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(f"{name}{{{wanted}}}" if labels else name) + r" (\S+)"
    found = re.search(rf"^{pattern}$", metrics_text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def metrics(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.mark.parametrize("request_id", ["a", "req-1.2_3", "x" * 128])
async def test_a_valid_request_id_is_echoed(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": request_id})
    assert response.headers["X-Request-ID"] == request_id


@pytest.mark.parametrize("request_id", ["", "x" * 129, "has space", "semi;colon", "é"])
async def test_an_invalid_request_id_is_replaced(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get("/health/live", headers={b"X-Request-ID": request_id.encode()})
    generated = response.headers["X-Request-ID"]
    assert generated != request_id
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


async def test_without_a_request_id_each_response_gets_a_new_one(client: httpx.AsyncClient) -> None:
    first, second = await client.get("/notes"), await client.get("/notes/999")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert second.status_code == 404  # error responses carry it too


async def test_requests_are_counted_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client)
    labels = {"method": "GET", "route": "/notes/{note_id}"}
    before = await metrics(client)
    await client.get(f"/notes/{note['id']}")
    await client.get(f"/notes/{note['id']}")
    await client.get("/notes/987654321")
    await client.get("/no/such/987654321")
    after = await metrics(client)

    counted = "http_requests_total"
    assert (
        sample(after, counted, **labels, status="200")
        - sample(before, counted, **labels, status="200")
        == 2
    )
    assert (
        sample(after, counted, **labels, status="404")
        - sample(before, counted, **labels, status="404")
        == 1
    )
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert sample(after, counted, **unmatched) - sample(before, counted, **unmatched) == 1
    assert "987654321" not in after
    duration_count = "http_request_duration_seconds_count"
    assert sample(after, duration_count, **labels) - sample(before, duration_count, **labels) == 3
    assert (
        'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/notes/{note_id}"}'
        in after
    )
    assert sample(after, "http_requests_in_flight") == 1  # the scrape itself


async def test_both_slash_forms_are_counted_and_logged_under_the_documented_template(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    post, get = (
        {"method": "POST", "route": "/notes"},
        {"method": "GET", "route": "/notes/{note_id}"},
    )
    live = {"method": "GET", "route": "/health/live"}
    before = await metrics(client)
    capsys.readouterr()
    for path in ("/notes", "/notes/"):
        note = (await client.post(path, json={"text": "counted"})).json()
    for path in (f"/notes/{note['id']}", f"/notes/{note['id']}/"):
        await client.get(path)
    await client.get("/health/live/")
    access = [line for line in log_lines(capsys) if line["logger"] == "service.access"]
    after = await metrics(client)

    def counted(text: str, labels: dict[str, str], status: str) -> float:
        return sample(text, "http_requests_total", **labels, status=status)

    assert counted(after, post, "201") - counted(before, post, "201") == 2
    assert counted(after, get, "200") - counted(before, get, "200") == 2
    assert counted(after, live, "200") - counted(before, live, "200") == 1
    assert not re.search(r'route="[^"]+/"', after)  # no template with the slash, in any metric
    assert [line["route"] for line in access] == [
        *("/notes", "/notes", "/notes/{note_id}", "/notes/{note_id}", "/health/live")
    ]
    assert [line["path"] for line in access][1::2] == ["/notes/", f"/notes/{note['id']}/"]


async def test_the_pool_gauges_describe_the_database_connections(client: httpx.AsyncClient) -> None:
    text = await metrics(client)
    in_use, size = sample(text, "db_pool_connections_in_use"), sample(text, "db_pool_connections")
    most = sample(text, "db_pool_max_connections")
    if backend() == "sqlite":
        assert (size, most) == (1, 1)  # one connection, shared
        assert in_use in (0, 1)
    else:
        assert most == 10  # DB_POOL_MAX_SIZE of the test settings
        assert 1 <= size <= most
        assert 0 <= in_use <= size
    assert "# TYPE db_pool_connections_in_use gauge" in text


async def test_each_request_logs_one_json_line_with_its_id_and_no_secrets_or_text(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    headers = {"X-Request-ID": "trace-me-1", "Authorization": f"Bearer {SECRET_KEY}"}
    created = await client.post("/notes", json={"text": SECRET_TEXT}, headers=headers)
    invalid = await client.post("/notes", json={"text": SECRET_TEXT, "x": SECRET_TEXT})
    lines = log_lines(capsys)

    assert created.status_code == 201
    assert invalid.status_code == 422
    access = [line for line in lines if line["logger"] == "service.access"]
    assert len(access) == 2
    mine = access[0]
    assert mine["request_id"] == "trace-me-1"
    assert mine["event"] == "request"
    assert mine["level"] == "info"
    assert (mine["method"], mine["route"], mine["status"]) == ("POST", "/notes", 201)
    assert mine["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", mine["timestamp"])
    assert "client" in mine
    assert access[1]["request_id"] == invalid.headers["X-Request-ID"]
    everything = json.dumps(lines)
    assert SECRET_KEY not in everything
    assert SECRET_TEXT not in everything


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()

    @app.get("/boom/{thing}")
    async def boom(thing: str) -> None:
        raise exc

    install_error_handlers(app)
    return add_edge(app)


async def test_an_unexpected_error_is_logged_once_with_its_traceback_and_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info")
    transport = httpx.ASGITransport(app=app_raising(RuntimeError("kaboom")))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as raw:
        capsys.readouterr()
        response = await raw.get("/boom/1", headers={"X-Request-ID": "boom-1"})
    lines = log_lines(capsys)

    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "boom-1"
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "boom-1"
    assert "Traceback" in errors[0]["exception"]
    assert "RuntimeError: kaboom" in errors[0]["exception"]
    access = [line for line in lines if line["logger"] == "service.access"]
    assert [(a["route"], a["status"], a["request_id"]) for a in access] == [
        ("/boom/{thing}", 500, "boom-1")
    ]
