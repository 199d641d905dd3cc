"""application/problem+json (RFC 9457): the one shape of every error response.

Each kind of problem is a class in `service.errors`; this module renders one as a response
and gives the OpenAPI document its schema.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from service.errors import HttpError, NotFound, ServiceError, problem_kinds

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_TITLES: dict[str, str] = {kind.slug: kind.title for kind in problem_kinds()}
_KIND_BY_STATUS: dict[int, type[ServiceError]] = {}
for _kind in problem_kinds():
    if _kind is not HttpError:
        _KIND_BY_STATUS.setdefault(_kind.status, _kind)


def kind_for_status(status: int) -> type[ServiceError] | None:
    """The kind of problem a bare HTTP status stands for (the first defined with it)."""
    return _KIND_BY_STATUS.get(status)


def problem_response(error: ServiceError) -> JSONResponse:
    return JSONResponse(
        error.body(), status_code=error.status, headers=error.headers, media_type=PROBLEM_MEDIA_TYPE
    )


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where the error is: body, query, path or header, then the field."
    )
    msg: str = Field(description="What is wrong, for a person.")
    type: str = Field(description="A stable error code, for a program.")


class Problem(BaseModel):
    """An error, as application/problem+json (RFC 9457)."""

    model_config = ConfigDict(json_schema_extra={"example": NotFound.example()})

    type: str = Field(
        description="A URI reference naming the kind of problem, e.g. /problems/not-found."
    )
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: one entry per offending field."
    )
