"""How notes go out on the wire: JSON bodies serialized in one pass, and their ETag."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi.responses import Response
from pydantic import TypeAdapter

from service.api.conditional import etag
from service.schemas import NoteRead

JSON = "application/json"
_NOTE_LIST = TypeAdapter(list[NoteRead])


def note_response(
    note: NoteRead, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return json_note_response(
        note.model_dump_json(), version=note.version, status_code=status_code, headers=headers
    )


def json_note_response(
    body: str, *, version: int, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A note already serialized (e.g. the stored answer to an idempotent create)."""
    return Response(
        body,
        status_code=status_code,
        media_type=JSON,
        headers={"ETag": etag(version), **(headers or {})},
    )


def note_list_response(notes: Sequence[NoteRead], headers: Mapping[str, str]) -> Response:
    body = _NOTE_LIST.dump_json(list(notes))
    return Response(body, media_type=JSON, headers=dict(headers))
