"""Errors the use-cases raise. Each carries the HTTP status and problem type it maps to, so one
handler at the edge turns any of them into application/problem+json.

    ServiceError                  500 internal-error
    ├── Unauthorized              401 unauthorized
    ├── NoteNotFound              404 not-found
    ├── PreconditionFailed        412 precondition-failed
    ├── PreconditionRequired      428 precondition-required
    ├── IdempotencyKeyReused      422 idempotency-key-reused
    └── DatabaseUnavailable       503 database-unavailable
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    status: ClassVar[int] = 500
    problem: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"
    detail: str = "The server could not complete the request; it has been logged."

    def __init__(self, detail: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)

    def field_errors(self) -> list[dict[str, Any]] | None:
        """For a 422: the offending fields, as the problem's `errors`."""
        return None


class Unauthorized(ServiceError):
    status = 401
    problem = "unauthorized"
    title = "Unauthorized"
    detail = "Send `Authorization: Bearer <key>` with a valid API key."


class NoteNotFound(ServiceError):
    status = 404
    problem = "not-found"
    title = "Not found"

    def __init__(self, note_id: int) -> None:
        super().__init__(f"Note {note_id} does not exist.")


class PreconditionFailed(ServiceError):
    status = 412
    problem = "precondition-failed"
    title = "Precondition failed"
    detail = "If-Match does not match the note's current ETag; fetch it and retry."


class PreconditionRequired(ServiceError):
    status = 428
    problem = "precondition-required"
    title = "Precondition required"
    detail = "This server requires If-Match with the note's ETag on every change."


class IdempotencyKeyReused(ServiceError):
    status = 422
    problem = "idempotency-key-reused"
    title = "Idempotency key reused"
    detail = (
        "This Idempotency-Key was first used with a different body; "
        "use a new key for a different note."
    )

    def field_errors(self) -> list[dict[str, Any]]:
        return [
            {
                "loc": ["header", "idempotency-key"],
                "msg": "The key is bound to a create with another body",
                "type": "idempotency_key_reused",
            }
        ]


class DatabaseUnavailable(ServiceError):
    status = 503
    problem = "database-unavailable"
    title = "Service unavailable"
    detail = "The database is unavailable; retry later."
