"""The /notes routes: each parses, calls a use-case, and answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from fastapi import FastAPI, Request, Response

from service import idempotency, notes
from service.api.conditional import etag, if_none_match_hits
from service.api.deps import (
    AppSettings,
    Condition,
    CurrentClient,
    IdempotencyKey,
    IfNoneMatch,
    ListQuery,
    NoteId,
)
from service.api.openapi.responses import (
    HEADER_ETAG,
    HEADER_LINK,
    HEADER_LOCATION,
    problem_responses,
)
from service.api.paths import NOTES_PREFIX
from service.api.representation import json_note_response, note_list_response, note_response
from service.errors import (
    IdempotencyKeyReused,
    NoteNotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    SearchTimedOut,
    UnsupportedMediaType,
    ValidationFailed,
)
from service.schemas import NOTE_ROW, NoteCreate, NotePatch, NoteRead, NoteReplace
from service.search import SearchLimits

TAGS: list[str | Enum] = ["notes"]

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_WRITE_PROBLEMS = (
    NoteNotFound,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    PreconditionRequired,
)
# PATCH and PUT answer alike.
_CHANGE_OPTIONS: dict[str, Any] = {
    "response_model": NoteRead,
    "responses": {200: {"headers": {"ETag": HEADER_ETAG}}, **problem_responses(*_WRITE_PROBLEMS)},
}


@dataclass(frozen=True)
class _Route:
    method: str
    path: str
    endpoint: Callable[..., Any]
    options: dict[str, Any]


_ROUTES: list[_Route] = []


def route(method: str, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """Declare a route of `install_routes`, under NOTES_PREFIX."""

    def register(endpoint: Endpoint) -> Endpoint:
        _ROUTES.append(_Route(method, NOTES_PREFIX + path, endpoint, options))
        return endpoint

    return register


def install_routes(app: FastAPI) -> None:
    """Serve the routes on the app's own router, each with and without a trailing slash (no
    redirects), documented once.

    Not through `include_router`: FastAPI keeps an included router as a node of its own and
    matches its routes again on every request (docs/performance.md has the cost)."""
    for spec in _ROUTES:
        for path, documented in ((spec.path, True), (spec.path + "/", False)):
            app.add_api_route(
                path,
                spec.endpoint,
                methods=[spec.method],
                tags=TAGS,
                include_in_schema=documented,
                **spec.options,
            )


@route(
    "POST",
    "",
    operation_id="create_note",
    summary="Create a note",
    status_code=201,
    response_model=NoteRead,
    responses={
        201: {
            "description": "Created; or, for a retry with the same Idempotency-Key and body, "
            "the first create's answer again (status, body, `Location` and `ETag`).",
            "headers": {"ETag": HEADER_ETAG, "Location": HEADER_LOCATION},
        },
        **problem_responses(
            PayloadTooLarge, UnsupportedMediaType, ValidationFailed, IdempotencyKeyReused
        ),
    },
)
async def create_note(
    payload: NoteCreate,
    client: CurrentClient,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a note from `text` (1 to 10,000 characters, stored as sent) and `completed`
    (default false). The answer carries the note, its `Location` and its `ETag`.

    Send an `Idempotency-Key` to make the request safe to retry: a retry with the same key and
    body answers the first 201 again and creates nothing."""
    fields = payload.model_dump()
    body: str | bytes
    if idempotency_key is None:
        # Straight from the row to JSON: no NoteRead instance to build and then dump.
        row = await notes.create_note_row(client, fields)
        note_id, version, body = row["id"], row["version"], NOTE_ROW.dump_json(row)
    else:
        created = await idempotency.create_once(client, idempotency_key, fields)
        note_id, version, body = created.note_id, created.version, created.body
    location = f"{request.scope.get('root_path', '')}{NOTES_PREFIX}/{note_id}"
    return json_note_response(
        body, version=version, status_code=201, headers={"Location": location}
    )


@route(
    "GET",
    "",
    operation_id="list_notes",
    summary="List notes",
    response_model=list[NoteRead],
    responses={
        200: {"headers": {"Link": HEADER_LINK}},
        **problem_responses(ValidationFailed, SearchTimedOut),
    },
)
async def list_notes(
    query: ListQuery, client: CurrentClient, request: Request, app_settings: AppSettings
) -> Response:
    """List notes by id, a page at a time (keyset pagination: every page costs the same).
    Filter by `completed`, find a substring with `q` or words with `search` (best first with
    `order=relevance`); the `Link` header leads to the next page and is absent on the last
    one."""
    limits = SearchLimits(app_settings.SEARCH_TIMEOUT_MS, app_settings.SEARCH_LANGUAGE)
    page = await notes.list_notes(client, query.to_query(), limits)
    headers = {}
    if page.has_more:
        cursor: dict[str, Any] = {"after": page.notes[-1]["id"]}
        if page.last_rank is not None:
            cursor["after_rank"] = repr(page.last_rank)
        next_url = request.url.include_query_params(**cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return note_list_response(page.notes, headers)


@route(
    "GET",
    "/{note_id}",
    operation_id="get_note",
    summary="Fetch a note",
    response_model=NoteRead,
    responses={
        200: {"headers": {"ETag": HEADER_ETAG}},
        304: {
            "description": "Not modified: If-None-Match names the current ETag.",
            "headers": {"ETag": HEADER_ETAG},
        },
        **problem_responses(NoteNotFound, ValidationFailed),
    },
)
async def get_note(
    note_id: NoteId, client: CurrentClient, if_none_match: IfNoneMatch = None
) -> Response:
    """Fetch one note with its `ETag`. With `If-None-Match` naming the current ETag, the
    answer is a 304 without a body."""
    note = await notes.get_note(client, note_id)
    if if_none_match is not None and if_none_match_hits(if_none_match, note.version):
        return Response(status_code=304, headers={"ETag": etag(note.version)})
    return note_response(note)


@route(
    "PATCH",
    "/{note_id}",
    operation_id="update_note",
    summary="Change some fields of a note",
    **_CHANGE_OPTIONS,
)
async def update_note(
    note_id: NoteId, payload: NotePatch, client: CurrentClient, condition: Condition
) -> Response:
    """Change `text`, `completed` or both; `{}` changes nothing. Send `If-Match` with the
    note's ETag so that a concurrent change is a 412 instead of being overwritten."""
    changes = payload.model_dump(exclude_unset=True)
    return note_response(await notes.update_note(client, note_id, changes, condition))


@route(
    "PUT", "/{note_id}", operation_id="replace_note", summary="Replace a note", **_CHANGE_OPTIONS
)
async def replace_note(
    note_id: NoteId, payload: NoteReplace, client: CurrentClient, condition: Condition
) -> Response:
    """Replace a note's `text` and `completed` (both required). Send `If-Match` with the
    note's ETag so that a concurrent change is a 412 instead of being overwritten."""
    changes = payload.model_dump()
    return note_response(await notes.update_note(client, note_id, changes, condition))


@route(
    "DELETE",
    "/{note_id}",
    operation_id="delete_note",
    summary="Delete a note",
    status_code=204,
    response_class=Response,
    responses=problem_responses(
        NoteNotFound, PreconditionFailed, ValidationFailed, PreconditionRequired
    ),
)
async def delete_note(note_id: NoteId, client: CurrentClient, condition: Condition) -> Response:
    """Delete a note for good (its id is never reused). With `If-Match`, only the version
    the caller has seen is deleted."""
    await notes.delete_note(client, note_id, condition)
    return Response(status_code=204)
