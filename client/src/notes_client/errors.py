"""What the notes client raises: the service's problem+json answers as typed exceptions.

    NotesError                       anything the client raises
    ├── ServiceUnreachable           no answer (refused, reset, timed out) within the deadline
    └── ProblemError                 an error answer: .status .type .title .detail .request_id
        ├── Unauthorized             401  missing or wrong API key
        ├── NoteNotFound             404  no such note (or another client's)
        ├── CursorExpired            410  .resync_after: the feed no longer holds the cursor
        ├── PreconditionFailed       412  If-Match no longer matches: someone wrote first
        ├── PreconditionRequired     428  the server requires If-Match on writes
        ├── ValidationFailed         422  .errors: one FieldError per offending field
        │   └── IdempotencyKeyReused 422  the Idempotency-Key was used with another body
        ├── RateLimited              429  .retry_after (seconds, or None)
        ├── ServiceUnavailable       503  .retry_after (seconds, or None)
        └── ServerError              5xx  a bug on the server side, logged with .request_id

Any other status (405, 413, 415, ...) is a plain `ProblemError`. RateLimited and
ServiceUnavailable reach the caller only once retrying has given up.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from notes_client.wire import retry_after_seconds


class NotesError(Exception):
    """The base of everything the notes client raises."""


class ServiceUnreachable(NotesError):
    """No HTTP answer at all (connection refused or reset, timeout) after every retry; the
    last transport error is its `__cause__`."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class FieldError(BaseModel):
    """One offending field of a 422: where (`loc`), what (`msg`) and a stable code (`type`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    loc: tuple[str | int, ...]
    msg: str
    type: str


class _Problem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = "about:blank"
    title: str = ""
    detail: str = ""
    errors: list[FieldError] | None = None
    resync_after: int | None = None


class ProblemError(NotesError):
    """An application/problem+json error answer (RFC 9457)."""

    problem_type: ClassVar[str | None] = None  # the `type` this class stands for, if one

    def __init__(self, response: httpx.Response, problem: _Problem) -> None:
        self.status = response.status_code
        self.type = problem.type
        self.title = problem.title
        self.detail = problem.detail or response.reason_phrase
        self.request_id: str | None = response.headers.get("x-request-id")
        self.response = response
        self.attempts = 1  # how many times the call was sent, retries included
        # True when an earlier attempt of the call may have been applied, its answer lost.
        self.maybe_applied = False
        super().__init__(f"{self.status} {self.title or response.reason_phrase}: {self.detail}")


class Unauthorized(ProblemError):
    """401: the API key is missing or not valid."""


class NoteNotFound(ProblemError):
    """404: no such note, or one that belongs to another client."""


class CursorExpired(ProblemError):
    """410: the change feed no longer holds the changes after your cursor. Read every note
    again (`list()`), then follow `changes(after=error.resync_after)`."""

    def __init__(self, response: httpx.Response, problem: _Problem) -> None:
        super().__init__(response, problem)
        self.resync_after: int = problem.resync_after or 0


class PreconditionFailed(ProblemError):
    """412: the note changed since the version you hold; fetch it, merge, and write again."""


class PreconditionRequired(ProblemError):
    """428: the server requires If-Match (pass the Note, not its id, to write)."""


class ValidationFailed(ProblemError):
    """422: the request was invalid; `errors` names each offending field."""

    def __init__(self, response: httpx.Response, problem: _Problem) -> None:
        super().__init__(response, problem)
        self.errors: list[FieldError] = list(problem.errors or [])


class IdempotencyKeyReused(ValidationFailed):
    """422: this Idempotency-Key already created a note from another body."""

    problem_type = "/problems/idempotency-key-reused"


class _Throttled(ProblemError):
    def __init__(self, response: httpx.Response, problem: _Problem) -> None:
        super().__init__(response, problem)
        self.retry_after: float | None = retry_after_seconds(response)


class RateLimited(_Throttled):
    """429: too many requests; retrying gave up within the deadline."""


class ServiceUnavailable(_Throttled):
    """503: the service (or its database) is unavailable; retrying gave up within the deadline."""


class ServerError(ProblemError):
    """500 or another 5xx: a server-side failure, logged there under `request_id`."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    401: Unauthorized,
    404: NoteNotFound,
    410: CursorExpired,
    412: PreconditionFailed,
    422: ValidationFailed,
    428: PreconditionRequired,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_for(
    response: httpx.Response, *, attempts: int = 1, maybe_applied: bool = False
) -> ProblemError:
    """The exception for an error answer; tolerant of bodies that are not problem+json."""
    problem = _parse(response)
    cls = _BY_STATUS.get(response.status_code)
    if problem.type == IdempotencyKeyReused.problem_type:
        cls = IdempotencyKeyReused
    elif cls is None:
        cls = ServerError if response.status_code >= 500 else ProblemError
    error = cls(response, problem)
    error.attempts, error.maybe_applied = attempts, maybe_applied
    return error


def _parse(response: httpx.Response) -> _Problem:
    try:
        body: Any = response.json()
        return _Problem.model_validate(body)
    except (ValueError, ValidationError):
        return _Problem(title=response.reason_phrase, detail=response.text[:200])
