"""How notes go out on the wire: JSON bodies serialized in one pass, and their ETag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import Response

from service.api.conditional import etag
from service.schemas import NOTE_ROWS, NoteRead

JSON = "application/json"


def note_response(
    note: NoteRead, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return json_note_response(
        note.model_dump_json(), version=note.version, status_code=status_code, headers=headers
    )


def json_note_response(
    body: str | bytes,
    *,
    version: int,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A note already serialized (e.g. the stored answer to an idempotent create, or a new
    note's row dumped by `NOTE_ROW`)."""
    return Response(
        body,
        status_code=status_code,
        media_type=JSON,
        headers={"ETag": etag(version), **(headers or {})},
    )


def note_list_response(notes: list[dict[str, Any]], headers: Mapping[str, str]) -> Response:
    """A page of notes, as `service.notes.list_notes` validated them (`NOTE_ROWS`)."""
    return Response(NOTE_ROWS.dump_json(notes), media_type=JSON, headers=dict(headers))
