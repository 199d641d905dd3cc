"""Exception handlers that turn every expected error into application/problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from service.api.paths import serving_route
from service.api.problems import kind_for_status, problem_response
from service.errors import FieldErrorDict, HttpError, ServiceError, ValidationFailed

_MAX_LOC_PART = 100

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def service_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return problem_response(exc)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(ValidationFailed.of_fields([field_error(e) for e in exc.errors()]))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HttpError.detail
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path[:200]!r}."
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; each method has its own.
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method[:20]} is not allowed here; use {' or '.join(allowed)}."
    kind = kind_for_status(exc.status_code)
    error = (
        HttpError(exc.status_code, detail, headers=headers)
        if kind is None
        else kind(detail, headers=headers)
    )
    return problem_response(error)


def allowed_methods(request: Request) -> list[str]:
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        route = serving_route(routes, {**request.scope, "method": method})
        # A route may claim its path for every method (routes/changes.py): ask its own list.
        methods = getattr(route, "methods", None)
        if route is not None and (not methods or method in methods):
            allowed.append(method)
    return allowed


def field_error(error: Any) -> FieldErrorDict:
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
