"""The client against the real service: a uvicorn process on the session's database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from notes_client import AsyncNotesClient, NotesClient, RetryPolicy
from service.api_keys import digest_of, generate_key
from service.config import Settings
from tests.client.faults import FaultProxy, fault_proxy
from tests.servers import Server, running_server

# Short waits keep the retry tests quick; the logic is the default policy's.
QUICK = RetryPolicy(deadline=10.0, backoff_base=0.01, backoff_cap=0.2)


@pytest.fixture
def notes(live_server: Server) -> Iterator[NotesClient]:
    with NotesClient(live_server.base_url, retry=QUICK) as client:
        yield client


@pytest.fixture
async def async_notes(live_server: Server) -> AsyncIterator[AsyncNotesClient]:
    async with AsyncNotesClient(live_server.base_url, retry=QUICK) as client:
        yield client


@pytest.fixture
def proxy(live_server: Server) -> Iterator[FaultProxy]:
    """The live service behind a fault-injecting proxy."""
    with fault_proxy(live_server.base_url) as faulty:
        yield faulty


@pytest.fixture(scope="session")
def api_key() -> str:
    return generate_key()


@pytest.fixture(scope="session")
def keyed_base_url(settings: Settings, api_key: str, tmp_dir: Path) -> Iterator[str]:
    """The service run strictly: authentication on (one client, "orders", holding `api_key`)
    and If-Match required on every write."""
    env = {
        "DATABASE_URL": settings.DATABASE_URL,
        "API_KEYS": f"orders:{digest_of(api_key)}",
        "REQUIRE_IF_MATCH": "true",
    }
    with running_server(env, tmp_dir) as server:
        yield server.base_url
