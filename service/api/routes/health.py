"""Health endpoints for orchestrators: liveness and readiness.

Readiness turns 503 as soon as shutdown begins (see `service.draining`). Like every route,
each answers with a trailing slash too, documented once (without it).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from tortoise import connections

from service.api.openapi.responses import problem_responses
from service.api.problems import problem_response
from service.db import is_unavailable_error
from service.draining import is_draining
from service.errors import NotReady
from service.migrate import pending_migrations

router = APIRouter(prefix="/health", tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/live", operation_id="health_live")
@router.get("/live/", include_in_schema=False)
async def live() -> JSONResponse:
    """200 while the process runs."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/ready",
    operation_id="health_ready",
    responses=problem_responses(NotReady),
)
@router.get("/ready/", include_in_schema=False)
async def ready() -> Response:
    """200 when the database answers and every migration is applied; otherwise 503."""
    if is_draining():
        return _not_ready("The service is shutting down.")
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await connections.get("default").execute_query("SELECT 1")
            pending = await pending_migrations()
    except Exception as exc:
        if not (is_unavailable_error(exc) or isinstance(exc, TimeoutError)):
            raise
        return _not_ready("The database does not answer.")
    if pending:
        return _not_ready(f"{len(pending)} migration(s) not applied: {', '.join(pending)}.")
    return JSONResponse({"status": "ok"})


def _not_ready(detail: str) -> Response:
    return problem_response(NotReady(detail))
