"""What the notes routes take from a request, as plain functions and `RequestValue`s they
call themselves, not as FastAPI `Depends` and declared parameters.

FastAPI solves a route's dependency tree anew on every request, re-inspecting each
parameter's annotation: about 15 µs per dependency or path/header parameter and 40 µs for
the page's query model, on a 250 µs point read. These do the same work directly, with the
same validation and 422 errors; the routes document them with `openapi_extra`.
(A plain `def` dependency would be worse still: FastAPI runs it in a worker thread.)
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.json_schema import WithJsonSchema

from service.api.conditional import parse_if_match
from service.api.middleware.auth import authenticated_client
from service.api.request_values import RequestValue, request_validation_error
from service.config import Settings
from service.errors import Unauthorized
from service.models import ID_MAX, IDEMPOTENCY_KEY_MAX_LENGTH
from service.notes import NoteQuery, WriteCondition

SEARCH_MAX_LENGTH = 1_000


def write_condition(request: Request) -> WriteCondition:
    """What a write must satisfy: the caller's If-Match, and whether the service requires one."""
    if_match: str | None = IF_MATCH.read(request)
    settings: Settings = request.app.state.settings
    return WriteCondition(
        if_match=None if if_match is None else parse_if_match([if_match]),
        required=settings.REQUIRE_IF_MATCH,
    )


def calling_client(request: Request) -> str:
    """The calling client, as the API-key middleware identified it: whose notes and
    idempotency keys a request sees. Fails closed if nothing identified one."""
    client = authenticated_client(request.scope)
    if client is None:
        raise Unauthorized
    return client


_IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7E]+$"

# The hot routes' own parameters (see service.api.request_values).
NOTE_ID = RequestValue(
    "note_id",
    "path",
    Annotated[
        int,
        Field(
            ge=1,
            le=ID_MAX,
            description="The note's id (1 to 2,147,483,647).",
            examples=[17],
        ),
    ],
)
# Entity-tag headers accept any string: one that is not a list of strong tags matches nothing.
IF_MATCH = RequestValue(
    "if-match",
    "header",
    str,
    description='Write only if the note\'s ETag is one of these (`"3"`, a list, or `*`). '
    "A mismatch is a 412 and changes nothing.",
)
IF_NONE_MATCH = RequestValue(
    "if-none-match",
    "header",
    str,
    description="Answer 304 Not Modified if the note's ETag is one of these, or `*`.",
)
IDEMPOTENCY_KEY = RequestValue(
    "idempotency-key",
    "header",
    Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=IDEMPOTENCY_KEY_MAX_LENGTH, pattern=_IDEMPOTENCY_KEY_PATTERN
        ),
    ],
    description="Makes the create safe to retry: a request with a key this client already "
    "used, with the same body, answers the original 201 and creates nothing; with "
    "another body it is a 422. 1 to 255 printable ASCII characters; remembered for at "
    "least 24 hours.",
)


class ListParameters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(100, ge=1, le=500, description="How many notes at most (1 to 500).")
    # Optional in Python, but "null" means nothing in a query string: document the value only.
    after: Annotated[
        int | None, WithJsonSchema({"type": "integer", "minimum": 0, "maximum": ID_MAX})
    ] = Field(
        None,
        ge=0,
        le=ID_MAX,
        description="Return the notes after this id, in the chosen order (keyset pagination). "
        "The `Link` header of a page gives the next one.",
    )
    order: Literal["asc", "desc"] = Field("asc", description="By id: ascending or descending.")
    completed: Annotated[
        Literal["true", "false"] | None,
        WithJsonSchema({"type": "string", "enum": ["true", "false"]}),
    ] = Field(None, description="Only notes with this state.")
    q: str = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        description="Case-insensitive substring of the text; `%` and `_` match literally.",
    )

    def to_query(self) -> NoteQuery:
        return NoteQuery(
            limit=self.limit,
            after=self.after,
            descending=self.order == "desc",
            completed=None if self.completed is None else self.completed == "true",
            search=self.q,
        )


def list_parameters(request: Request) -> ListParameters:
    """The query of `GET /notes`, validated as FastAPI would a `Query()` model (the last value
    of a repeated parameter counts; unknown ones are ignored); errors are the same 422."""
    try:
        return ListParameters.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise request_validation_error(exc, "query") from None
