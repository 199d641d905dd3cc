"""What the routes take from a request, declared once as `Annotated` aliases.

A route's signature says what it takes (`note_id: NoteId, client: CurrentClient`); FastAPI
validates each input, lists every offending one in a single 422, and documents them all in
the OpenAPI document; tests can replace any dependency with `app.dependency_overrides`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import WithJsonSchema

from service import search_syntax
from service.api.conditional import parse_if_match
from service.api.middleware.auth import authenticated_client
from service.changes import SEQ_MAX
from service.config import Settings
from service.errors import FieldErrorDict, Unauthorized, ValidationFailed
from service.models import ID_MAX, IDEMPOTENCY_KEY_MAX_LENGTH
from service.notes import NoteQuery, WriteCondition

SEARCH_MAX_LENGTH = 1_000
# PostgreSQL cannot hold NUL in text: refused at the edge on both backends, like any bad input.
_NO_NUL = r"^[^\x00]*$"

# Entity-tag headers are lists (RFC 9110 section 5.3): every field line counts, so they are
# read as lists of lines, and documented as the one string a header is on the wire. Any
# string is acceptable: one that is not a list of strong tags matches nothing.
_ONE_STRING = WithJsonSchema({"type": "string"})

NoteId = Annotated[
    int,
    Path(
        ge=1,
        le=ID_MAX,
        description="The note's id (1 to 2,147,483,647).",
        examples=[17],
    ),
]
IfMatch = Annotated[
    list[str] | None,
    Header(
        description='Write only if the note\'s ETag is one of these (`"3"`, a list, or `*`). '
        "A mismatch is a 412 and changes nothing.",
        openapi_examples={
            "version": {"summary": "The ETag of the version read", "value": '"3"'},
            "any": {"summary": "Any existing version", "value": "*"},
        },
    ),
    _ONE_STRING,
]
IfNoneMatch = Annotated[
    list[str] | None,
    Header(
        description="Answer 304 Not Modified if the note's ETag is one of these, or `*`.",
        openapi_examples={"version": {"summary": "The ETag of the copy held", "value": '"3"'}},
    ),
    _ONE_STRING,
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        pattern=r"^[\x20-\x7E]+$",
        description="Makes the create safe to retry: a request with a key this client already "
        "used, with the same body, answers the original 201 and creates nothing; with "
        "another body it is a 422. 1 to 255 printable ASCII characters; remembered for at "
        "least 24 hours.",
        openapi_examples={
            "uuid": {
                "summary": "A new UUID per create, reused by its retries",
                "value": "5f0c3b9e-8d2a-4f7e-9c1d-2a6b7e4f8c01",
            }
        },
    ),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
            "pattern": r"^[\x20-\x7E]+$",
        }
    ),
]


async def current_client(request: Request) -> str:
    """The calling client, as the API-key middleware identified it: whose notes and
    idempotency keys a request sees. Fails closed if nothing identified one."""
    client = authenticated_client(request.scope)
    if client is None:
        raise Unauthorized
    return client


CurrentClient = Annotated[str, Depends(current_client)]


async def settings(request: Request) -> Settings:
    app_settings: Settings = request.app.state.settings
    return app_settings


AppSettings = Annotated[Settings, Depends(settings)]


async def write_condition(app_settings: AppSettings, if_match: IfMatch = None) -> WriteCondition:
    """What a write must satisfy: the caller's If-Match, and whether the service requires one."""
    return WriteCondition(
        if_match=None if if_match is None else parse_if_match(if_match),
        required=app_settings.REQUIRE_IF_MATCH,
    )


Condition = Annotated[WriteCondition, Depends(write_condition)]


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
    order: Literal["asc", "desc", "relevance"] = Field(
        "asc",
        description="By id: ascending or descending; with `search`, also `relevance` (best "
        "first; the `Link` carries `after` and `after_rank`).",
    )
    completed: Annotated[
        Literal["true", "false"] | None,
        WithJsonSchema({"type": "string", "enum": ["true", "false"]}),
    ] = Field(None, description="Only notes with this state.")
    q: str = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        pattern=_NO_NUL,
        description="Case-insensitive substring of the text; `%` and `_` match literally. "
        "No NUL character.",
    )
    search: str = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        pattern=_NO_NUL,
        description='Words in web-search syntax: `word` (all required), `"a phrase"`, '
        "`-excluded`, `or`. No NUL character.",
    )
    after_rank: Annotated[float | None, WithJsonSchema({"type": "number"})] = Field(
        None,
        allow_inf_nan=False,
        description="With `order=relevance` and `after`: the rank of the note `after` names, "
        "as the `Link` gives it.",
    )

    def to_query(self) -> NoteQuery:
        by_relevance = self.order == "relevance"
        errors: list[FieldErrorDict] = []
        words = None
        if self.search:
            try:
                words = search_syntax.parse(self.search)
            except search_syntax.SearchSyntaxError as error:
                errors.append({"loc": ["query", "search"], "msg": str(error), "type": "search"})
        if by_relevance and not self.search:
            errors.append(_query_error("order", "order=relevance needs a search"))
        if by_relevance and (self.after is None) != (self.after_rank is None):
            errors.append(
                _query_error(
                    "after_rank", "With order=relevance, give after and after_rank together"
                )
            )
        if errors:
            raise ValidationFailed.of_fields(errors)
        return NoteQuery(
            limit=self.limit,
            after=self.after,
            descending=self.order == "desc",
            completed=None if self.completed is None else self.completed == "true",
            search=self.q,
            words=words,
            by_relevance=by_relevance,
            after_rank=self.after_rank if by_relevance else None,
        )


def _query_error(name: str, message: str) -> FieldErrorDict:
    return {"loc": ["query", name], "msg": message, "type": "value_error"}


ListQuery = Annotated[ListParameters, Query()]


class ChangesParameters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    after: int = Field(
        0,
        ge=0,
        le=SEQ_MAX,
        description="Return the changes after this cursor (a change's `seq`); 0, the default, "
        "starts from the oldest change retained and never expires. The `Link` header gives "
        "the next cursor.",
        examples=[41],
    )
    limit: int = Field(100, ge=1, le=1000, description="How many changes at most (1 to 1000).")
    wait: float = Field(
        0,
        ge=0,
        le=60,
        description="Seconds (0 to 60) to hold the request open when nothing follows `after`: "
        "the answer comes as soon as a change does (long polling), or empty when `wait` passes.",
        examples=[30],
    )


ChangesQuery = Annotated[ChangesParameters, Query()]
LastEventId = Annotated[
    int | None,
    Header(
        ge=0,
        le=SEQ_MAX,
        description="Server-Sent Events only: resume after this seq (what `EventSource` sends "
        "when it reconnects); it takes the place of `after`.",
        examples=[41],
    ),
    # What a header is on the wire: one string, here of digits.
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,19}$"}),
]
