"""Every kind of problem the service answers with, each defined once, as an error class.

A class says everything about its kind: the HTTP status, the problem type's slug
(`/problems/<slug>`), title, when it happens (the OpenAPI response's text), the default
detail (also the OpenAPI example's), and the headers its responses carry. The exception
handlers, the middleware's refusals, the OpenAPI responses and examples and the table of
problem types are all derived from these classes (`problem_kinds()`).

The use-cases raise the domain's kinds; the HTTP edge raises the rest.

    ServiceError                  500 internal-error
    ├── Unauthorized              401 unauthorized
    ├── NotFound                  404 not-found
    ├── CursorExpired             410 cursor-expired
    │   └── NoteNotFound
    ├── MethodNotAllowed          405 method-not-allowed
    ├── NotAcceptable             406 not-acceptable
    ├── PreconditionFailed        412 precondition-failed
    ├── PayloadTooLarge           413 payload-too-large
    ├── UriTooLong                414 uri-too-long
    ├── UnsupportedMediaType      415 unsupported-media-type
    ├── ValidationFailed          422 validation-error
    ├── IdempotencyKeyReused      422 idempotency-key-reused
    ├── PreconditionRequired      428 precondition-required
    ├── HeaderFieldsTooLarge      431 request-header-fields-too-large
    ├── DatabaseUnavailable       503 database-unavailable
    ├── NotReady                  503 not-ready
    ├── SearchTimedOut            503 search-timed-out
    └── HttpError                 any http-error
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict


class FieldErrorDict(TypedDict):
    loc: list[str | int]
    msg: str
    type: str


class ServiceError(Exception):
    status: int = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"
    explanation: ClassVar[str] = "An unexpected error; it was logged with the request id."
    detail: str = "The server could not complete the request; it has been logged."
    # The headers every response of this kind carries, with what they mean.
    header_docs: ClassVar[tuple[tuple[str, str], ...]] = ()
    example_errors: ClassVar[Sequence[FieldErrorDict] | None] = None
    retry_after_seconds: ClassVar[int | None] = None  # sent as Retry-After

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldErrorDict] | None = None,
    ) -> None:
        if detail is not None:
            self.detail = detail
        self.headers: dict[str, str] = {**self.default_headers(), **(headers or {})}
        self.errors = list(errors) if errors is not None else self.field_errors()
        super().__init__(self.detail)

    def default_headers(self) -> dict[str, str]:
        if self.retry_after_seconds is None:
            return {}
        return {"Retry-After": str(self.retry_after_seconds)}

    def field_errors(self) -> list[FieldErrorDict] | None:
        """For a 422: the offending fields, as the problem's `errors`."""
        return None

    def body(self) -> dict[str, Any]:
        """This problem as application/problem+json."""
        return _problem_body(self, self.detail, self.errors)

    @classmethod
    def example(cls) -> dict[str, Any]:
        """A true-to-life body of this kind, for the OpenAPI document."""
        return _problem_body(cls, cls.detail, cls.example_errors)


def _problem_body(
    kind: ServiceError | type[ServiceError],
    detail: str,
    errors: Sequence[FieldErrorDict] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{kind.slug}",
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return body


def problem_kinds() -> list[type[ServiceError]]:
    """Every kind of problem, in the order of the tree above: each class with its own slug."""
    kinds: list[type[ServiceError]] = []

    def visit(kind: type[ServiceError]) -> None:
        if "slug" in vars(kind):
            kinds.append(kind)
        for subclass in kind.__subclasses__():
            visit(subclass)

    visit(ServiceError)
    return kinds


class Unauthorized(ServiceError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"
    explanation = (
        "API keys are configured and the request has no valid one "
        "(`WWW-Authenticate: Bearer`); checked before anything else."
    )
    detail = "This endpoint needs an API key: send `Authorization: Bearer <key>`."
    header_docs = (
        (
            "WWW-Authenticate",
            'The scheme to authenticate with: `Bearer realm="notes"` (with '
            '`error="invalid_token"` when a key was sent but is not valid).',
        ),
    )


class NotFound(ServiceError):
    status = 404
    slug = "not-found"
    title = "Not found"
    explanation = "The note does not exist (or belongs to another client)."
    detail = "Note 17 does not exist."


class NoteNotFound(NotFound):
    def __init__(self, note_id: int) -> None:
        super().__init__(f"Note {note_id} does not exist.")


class MethodNotAllowed(ServiceError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"
    explanation = "The path does not serve this method; `Allow` lists those it does."
    detail = "DELETE is not allowed here; use GET or POST."
    header_docs = (("Allow", "The methods this path serves."),)


class NotAcceptable(ServiceError):
    status = 406
    slug = "not-acceptable"
    title = "Not acceptable"
    explanation = "The service cannot answer in a media type the request accepts."
    detail = "The service answers only application/json."


class PreconditionFailed(ServiceError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"
    explanation = "If-Match does not match the note's current ETag; nothing changed."
    detail = "If-Match does not match the note's current ETag; fetch it and retry."


class PayloadTooLarge(ServiceError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"
    explanation = (
        "The body is larger than the configured limit (MAX_BODY_BYTES, default 65,536 bytes)."
    )
    detail = "The body is larger than 65536 bytes."


class UriTooLong(ServiceError):
    status = 414
    slug = "uri-too-long"
    title = "URI too long"
    explanation = "The path and query string are longer than 16,384 bytes."
    detail = "The path and query string are longer than 16384 bytes."


class UnsupportedMediaType(ServiceError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"
    explanation = "The body is not JSON (`application/json` or `application/*+json`, UTF-8)."
    detail = "Send the body as application/json."


class ValidationFailed(ServiceError):
    status = 422
    slug = "validation-error"
    title = "Request validation failed"
    explanation = "The request is malformed or invalid; `errors` has one entry per offending field."
    detail = "The request has 1 invalid field; see errors."
    example_errors = (
        {
            "loc": ["body", "text"],
            "msg": "Text must contain at least one non-whitespace character",
            "type": "text_blank",
        },
    )

    @classmethod
    def of_fields(cls, errors: Sequence[FieldErrorDict]) -> ValidationFailed:
        count = len(errors)
        detail = f"The request has {count} invalid field{'s' if count != 1 else ''}; see errors."
        return cls(detail, errors=errors)


class IdempotencyKeyReused(ServiceError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency key reused"
    explanation = "The Idempotency-Key was already used with another body; nothing was created."
    detail = (
        "This Idempotency-Key was first used with a different body; "
        "use a new key for a different note."
    )
    example_errors = (
        {
            "loc": ["header", "idempotency-key"],
            "msg": "The key is bound to a create with another body",
            "type": "idempotency_key_reused",
        },
    )

    def field_errors(self) -> list[FieldErrorDict]:
        return list(self.example_errors or ())


class PreconditionRequired(ServiceError):
    status = 428
    slug = "precondition-required"
    title = "Precondition required"
    explanation = "The server requires If-Match on writes (REQUIRE_IF_MATCH)."
    detail = "This server requires If-Match with the note's ETag on every change."


class HeaderFieldsTooLarge(ServiceError):
    status = 431
    slug = "request-header-fields-too-large"
    title = "Request header fields too large"
    explanation = "The headers are larger than 16,384 bytes together, or more than 100 fields."
    detail = "The request's headers are larger than 16384 bytes together."


_RETRY_AFTER_DOC = "Seconds to wait before retrying."


class DatabaseUnavailable(ServiceError):
    status = 503
    slug = "database-unavailable"
    title = "Service unavailable"
    explanation = "The database is unavailable; retry after `Retry-After` seconds."
    detail = "The database is unavailable; retry later."
    header_docs = (("Retry-After", _RETRY_AFTER_DOC),)
    retry_after_seconds = 2


class NotReady(ServiceError):
    status = 503
    slug = "not-ready"
    title = "Not ready"
    explanation = "Not ready; `detail` says why."
    detail = "The database does not answer."
    header_docs = (("Retry-After", _RETRY_AFTER_DOC),)
    retry_after_seconds = 5


class SearchTimedOut(ServiceError):
    status = 503
    slug = "search-timed-out"
    title = "Search took too long"
    explanation = (
        "A search (`q` or `search`) ran past its time limit (SEARCH_TIMEOUT_MS) and was "
        "stopped; `detail` says why. Patterns of 3 or more characters are served by an index."
    )
    detail = (
        "The search was stopped after 1000 ms: a pattern of 1 or 2 characters, or a word "
        "in most notes ranked by relevance, cannot use the index. Search for a longer "
        "pattern, add words, or order by id."
    )
    header_docs = (("Retry-After", _RETRY_AFTER_DOC),)
    retry_after_seconds = 1

    @classmethod
    def after(cls, timeout_ms: int) -> SearchTimedOut:
        return cls(cls.detail.replace("1000 ms", f"{timeout_ms} ms"))


class HttpError(ServiceError):
    """Any other HTTP error the framework raises, with its own status."""

    slug = "http-error"
    title = "HTTP error"
    explanation = "The request could not be served."
    detail = "The request could not be served."

    def __init__(
        self, status: int, detail: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        super().__init__(detail, headers=headers)


class CursorExpired(ServiceError):
    """A change feed cursor older than what the feed retains (CHANGES_RETENTION_HOURS)."""

    status = 410
    slug = "cursor-expired"
    title = "Cursor expired"
    explanation = (
        "The `after` cursor is older than the changes the feed retains. Resynchronise: "
        "read every note from `GET /notes`, then follow the feed from the `after` this "
        "problem names (`resync_after`)."
    )
    detail = (
        "Changes after 12 are no longer retained: resynchronise from GET /notes, "
        "then continue from GET /notes/changes?after=41."
    )
    resync_after: int = 41

    def __init__(self, after: int = 12, resync_after: int = 41) -> None:
        self.resync_after = resync_after
        super().__init__(
            f"Changes after {after} are no longer retained: resynchronise from GET /notes, "
            f"then continue from GET /notes/changes?after={resync_after}."
        )

    def body(self) -> dict[str, Any]:
        return {**super().body(), "resync_after": self.resync_after}

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "resync_after": cls.resync_after}
