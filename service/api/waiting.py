"""What `serve` answers while it waits for the database at startup, before the app exists:
alive (`/health/live` 200), not ready (everything else 503 `not-ready`), so orchestrators
neither route to it nor restart it while it waits (see `service.db.wait_for_database`)."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from service.api.problems import problem_response
from service.errors import NotReady

WAITING_DETAIL = "The service is starting: it is waiting for the database to accept connections."


async def waiting_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"].rstrip("/") == "/health/live":
        response = JSONResponse({"status": "ok"})
    else:
        response = problem_response(NotReady(WAITING_DETAIL))
    await response(scope, receive, send)
