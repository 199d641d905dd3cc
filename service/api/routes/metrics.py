"""`GET /metrics`: Prometheus scrapes the service here (see service.api.metrics).

Like every route, it answers with a trailing slash too, documented once (without it).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.api.metrics import scrape_registry

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        }
    },
)
@router.get("/metrics/", include_in_schema=False)
async def metrics() -> Response:
    """Request counts, durations and in-flight requests, and database pool usage."""
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)
