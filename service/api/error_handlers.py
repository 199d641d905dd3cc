"""Exception handlers that turn every expected error into application/problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from service.api.paths import serving_route
from service.api.problems import problem_response
from service.errors import DatabaseUnavailable, ServiceError

RETRY_AFTER_SECONDS = "2"
_MAX_LOC_PART = 100

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_SLUG_BY_STATUS = {
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    503: "database-unavailable",
}


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if isinstance(exc, DatabaseUnavailable) else None
    return problem_response(
        exc.status,
        exc.problem,
        exc.detail,
        title=exc.title,
        headers=headers,
        errors=exc.field_errors(),
    )


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(error) for error in exc.errors()]
    count = len(errors)
    detail = f"The request has {count} invalid field{'s' if count != 1 else ''}; see errors."
    return problem_response(422, "validation-error", detail, errors=errors)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = _SLUG_BY_STATUS.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path[:200]!r}."
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; each method has its own.
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method[:20]} is not allowed here; use {' or '.join(allowed)}."
    return problem_response(exc.status_code, slug, detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if serving_route(routes, {**request.scope, "method": method}) is not None
    ]


def field_error(error: Any) -> dict[str, Any]:
    """One entry of a 422's `errors`, without the offending input (it may be huge or secret)."""
    return {
        "loc": [_safe_loc(part) for part in error["loc"]],
        "msg": error["msg"],
        "type": error["type"],
    }


def _safe_loc(part: str | int) -> str | int:
    # Unknown keys are the caller's text: cap them and make them encodable (lone surrogates).
    if isinstance(part, int):
        return part
    return part[:_MAX_LOC_PART].encode("utf-8", "backslashreplace").decode("utf-8")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)


__all__: Sequence[str] = ["field_error", "install_error_handlers"]
