"""What the routes take from a request: parameters declared once as `Annotated` aliases, and
the plain functions the hot routes call themselves.

Every dependency is `async def`, even those that await nothing: FastAPI runs a plain `def`
dependency in a worker thread, a thread hop on every request that uses it. The hot routes
(point reads, pages, creates) use no `Depends` at all: FastAPI solves a dependency tree
anew on every request, re-inspecting each parameter's annotation, which cost about 15 µs per
dependency and 40 µs for the page's query model (on a 250 µs point read). They call
`calling_client` and `list_parameters` instead, which do the same work directly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.json_schema import WithJsonSchema

from service.api.auth import authenticated_client
from service.api.conditional import parse_if_match
from service.api.request_values import RequestValue
from service.config import Settings
from service.errors import Unauthorized
from service.models import ID_MAX, IDEMPOTENCY_KEY_MAX_LENGTH
from service.notes import NoteQuery, WriteCondition

SEARCH_MAX_LENGTH = 1_000


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]

NoteId = Annotated[
    int,
    Path(
        ge=1,
        le=ID_MAX,
        description="The note's id (1 to 2,147,483,647).",
        examples=[17],
    ),
]


# A header is absent or a string (repeated headers are joined with commas): never an array or
# null. Any string is accepted; one that is not a list of strong tags simply matches nothing.
_ENTITY_TAGS_SCHEMA = WithJsonSchema({"type": "string"})


async def write_condition(
    settings: SettingsDep,
    if_match: Annotated[
        list[str] | None,
        _ENTITY_TAGS_SCHEMA,
        Header(
            description='Write only if the note\'s ETag is one of these (`"3"`, a list, or `*`). '
            "A mismatch is a 412 and changes nothing.",
            examples=['"1"'],
        ),
    ] = None,
) -> WriteCondition:
    parsed = parse_if_match(if_match) if if_match is not None else None
    return WriteCondition(if_match=parsed, required=settings.REQUIRE_IF_MATCH)


WriteConditionDep = Annotated[WriteCondition, Depends(write_condition)]


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
    description="The note's id (1 to 2,147,483,647).",
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
        errors: list[Any] = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from None
