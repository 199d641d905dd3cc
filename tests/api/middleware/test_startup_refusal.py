"""What the server is told when the lifespan fails: a refusal's one line, or a traceback.

(The real process refusing a database that is behind: tests/test_migrate.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.types import Message

from service.api.middleware.startup_refusal import StartupRefused
from tests.api.middleware import add_edge


async def startup_failure(exc: Exception) -> tuple[list[Message], BaseException]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        raise exc
        yield

    app = add_edge(FastAPI(lifespan=lifespan))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    with pytest.raises(type(exc)) as raised:
        await app(scope, receive, send)
    return sent, raised.value


async def test_a_refusal_is_reported_as_its_message_alone() -> None:
    sent, raised = await startup_failure(StartupRefused("Cannot start: do this first."))
    assert sent == [{"type": "lifespan.startup.failed", "message": "Cannot start: do this first."}]
    assert isinstance(raised, StartupRefused)


async def test_any_other_startup_error_keeps_its_traceback() -> None:
    sent, _ = await startup_failure(ValueError("unexpected"))
    assert [message["type"] for message in sent] == ["lifespan.startup.failed"]
    assert sent[0]["message"].startswith("Traceback (most recent call last):")
    assert "ValueError: unexpected" in sent[0]["message"]
