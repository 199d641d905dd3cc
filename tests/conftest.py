"""Fixtures: one migrated throwaway database and one app (with its lifespan) per session.

The suite runs once per backend (TEST_DATABASE=sqlite or postgres); each test starts from
empty tables.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from tortoise import connections

from service.config import Settings
from service.logs import flush_logs
from service.main import create_app
from service.migrate import apply_migrations
from tests import servers
from tests.databases import backend, throwaway_database
from tests.servers import Server, running_server


def pytest_report_header() -> str:
    return f"notes service tests on: {backend()}"


# Fixtures that run the service as a process: a test using any of them is `live`.
LIVE_FIXTURES = frozenset({"live_server", "keyed_server", "keyed_base_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `live` every test that uses a server fixture (other live tests are marked where
    they are written). `@pytest.mark.postgres_only(reason=...)` tests are skipped with their
    reason on the SQLite run (the PostgreSQL run, which CI makes too, runs them)."""
    for item in items:
        if LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
        marker = item.get_closest_marker("postgres_only")
        if marker is not None and backend() == "sqlite":
            reason = marker.kwargs.get("reason", "PostgreSQL only")
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {reason}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the test's fixtures: a session server started for a live test is allowed.
    servers.may_start_processes = item.get_closest_marker("live") is not None


@pytest.fixture(scope="session")
def tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notes")


@pytest.fixture(scope="session")
async def database_url(tmp_dir: Path) -> AsyncIterator[str]:
    try:
        async with throwaway_database(tmp_dir) as url:
            yield url
    except OSError as exc:
        # Asked for PostgreSQL and it is not there: a failure, never a skip.
        pytest.fail(f"PostgreSQL is not reachable for TEST_DATABASE=postgres: {exc}")


@pytest.fixture(scope="session")
async def settings(database_url: str) -> Settings:
    settings = Settings(DATABASE_URL=database_url, DB_POOL_MAX_SIZE=10)
    await apply_migrations(settings)
    return settings


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    # asgi_lifespan's default of 5 s to shut down is not the service's budget: the shutdown
    # (background tasks cancelled, the pool closed) once took longer at the end of a session
    # on the loaded machine. One that hangs still fails, after SHUTDOWN_GRACE_SECONDS.
    async with LifespanManager(application, shutdown_timeout=settings.SHUTDOWN_GRACE_SECONDS):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture(autouse=True)
def earlier_logs_written() -> None:
    """Access lines wait in a buffer (service.logs): earlier tests' lines are written before
    a test captures stdout, not into its capture."""
    flush_logs()


@pytest.fixture(autouse=True)
async def empty_tables(app: FastAPI) -> None:
    await connections.get("default").execute_script(
        "DELETE FROM notes; DELETE FROM idempotent_creates; DELETE FROM note_changes; "
        "DELETE FROM change_heads"
    )


@pytest.fixture
def override_settings(app: FastAPI) -> Iterator[Callable[..., None]]:
    """Change the running app's settings for a test: `override_settings(REQUIRE_IF_MATCH=True)`."""
    original: Settings = app.state.settings

    def override(**changes: object) -> None:
        app.state.settings = original.model_copy(update=changes)

    yield override
    app.state.settings = original


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def live_server(settings: Settings, tmp_dir: Path) -> Iterator[Server]:
    """The service as a real uvicorn process, on the session's (migrated) database."""
    with running_server({"DATABASE_URL": settings.DATABASE_URL}, tmp_dir) as server:
        yield server


@pytest.fixture(scope="module")
def replicas(live_server: Server, settings: Settings, tmp_dir: Path) -> Iterator[list[Server]]:
    """Two uvicorn processes on one PostgreSQL database; on SQLite the live server alone
    (several processes writing one SQLite file is not a supported deployment)."""
    if settings.is_sqlite:
        yield [live_server]
    else:
        with running_server({"DATABASE_URL": settings.DATABASE_URL}, tmp_dir) as second:
            yield [live_server, second]
