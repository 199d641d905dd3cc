"""Error answers become the exception for their status and problem type."""

from __future__ import annotations

import httpx
import pytest

from notes_client import (
    IdempotencyKeyReused,
    NoteNotFound,
    PreconditionFailed,
    PreconditionRequired,
    ProblemError,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from notes_client.errors import error_for


def problem(status: int, slug: str, **extra: object) -> httpx.Response:
    body = {"type": f"/problems/{slug}", "title": slug, "status": status, "detail": "d", **extra}
    headers = {"Content-Type": "application/problem+json", "X-Request-ID": "req-1"}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "slug", "kind"),
    [
        (401, "unauthorized", Unauthorized),
        (404, "not-found", NoteNotFound),
        (405, "method-not-allowed", ProblemError),
        (412, "precondition-failed", PreconditionFailed),
        (413, "payload-too-large", ProblemError),
        (422, "validation-error", ValidationFailed),
        (422, "idempotency-key-reused", IdempotencyKeyReused),
        (428, "precondition-required", PreconditionRequired),
        (429, "too-many-requests", RateLimited),
        (500, "internal-error", ServerError),
        (503, "database-unavailable", ServiceUnavailable),
    ],
)
def test_each_status_has_its_exception(status: int, slug: str, kind: type[ProblemError]) -> None:
    error = error_for(problem(status, slug))

    assert type(error) is kind
    assert (error.status, error.type, error.detail, error.request_id) == (
        status,
        f"/problems/{slug}",
        "d",
        "req-1",
    )


def test_a_422_lists_its_field_errors() -> None:
    errors = [{"loc": ["body", "text"], "msg": "too long", "type": "string_too_long"}]

    error = error_for(problem(422, "validation-error", errors=errors))

    assert isinstance(error, ValidationFailed)
    assert [(e.loc, e.msg, e.type) for e in error.errors] == [
        (("body", "text"), "too long", "string_too_long")
    ]


def test_a_gateways_html_error_is_still_a_typed_exception() -> None:
    response = httpx.Response(502, text="<html>Bad Gateway</html>", headers={"Retry-After": "3"})

    error = error_for(response)

    assert type(error) is ServerError
    assert error.status == 502
    assert "Bad Gateway" in error.detail


def test_throttling_errors_carry_retry_after() -> None:
    response = httpx.Response(503, headers={"Retry-After": "7"}, json={"status": 503})

    error = error_for(response)

    assert isinstance(error, ServiceUnavailable)
    assert error.retry_after == 7.0
