"""The catch-all: an unexpected error is a 500 problem, a lost database a 503, logged once."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from service.api.error_handlers import install_error_handlers
from tests.api.middleware import add_edge
from tests.factories import assert_problem


def app_raising(exc: Exception) -> FastAPI:
    """A bare app with the service's error handling and one route that raises `exc`."""
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    install_error_handlers(app)
    return add_edge(app)


async def request_boom(exc: Exception) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_raising(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/boom")


async def test_an_unexpected_error_is_a_500_problem_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="service.errors"):
        response = await request_boom(RuntimeError("SELECT secret FROM internals"))

    problem = assert_problem(response, 500, "internal-error")
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert "secret" not in problem["detail"]
    records = [r for r in caplog.records if r.name == "service.errors"]
    assert len(records) == 1
    assert records[0].exc_info is not None


@pytest.mark.parametrize(
    "exc",
    [ConnectionRefusedError(111, "Connection refused"), TimeoutError(), ConnectionResetError()],
)
async def test_a_lost_database_is_a_503_with_retry_after(exc: Exception) -> None:
    response = await request_boom(exc)
    assert_problem(response, 503, "database-unavailable")
    assert int(response.headers["retry-after"]) > 0
