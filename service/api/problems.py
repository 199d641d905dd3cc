"""application/problem+json (RFC 9457): the one shape of every error response.

`type` is a stable URI reference per kind of problem, `/problems/<slug>`; the slugs are
listed in `PROBLEM_TITLES` and documented in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_TITLES: dict[str, str] = {
    "validation-error": "Request validation failed",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "not-acceptable": "Not acceptable",
    "payload-too-large": "Request body too large",
    "unsupported-media-type": "Unsupported media type",
    "uri-too-long": "URI too long",
    "request-header-fields-too-large": "Request header fields too large",
    "precondition-failed": "Precondition failed",
    "precondition-required": "Precondition required",
    "idempotency-key-reused": "Idempotency key reused",
    "unauthorized": "Unauthorized",
    "database-unavailable": "Service unavailable",
    "not-ready": "Not ready",
    "internal-error": "Internal server error",
    "http-error": "HTTP error",
}


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where the error is: body, query, path or header, then the field."
    )
    msg: str = Field(description="What is wrong, for a person.")
    type: str = Field(description="A stable error code, for a program.")


class Problem(BaseModel):
    """An error, as application/problem+json (RFC 9457)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "/problems/not-found",
                "title": "Not found",
                "status": 404,
                "detail": "Note 17 does not exist.",
            }
        }
    )

    type: str = Field(
        description="A URI reference naming the kind of problem, e.g. /problems/not-found."
    )
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: one entry per offending field."
    )


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title or PROBLEM_TITLES.get(slug, PROBLEM_TITLES["http-error"]),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
