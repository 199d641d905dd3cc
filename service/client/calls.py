"""The client's calls as data, and their answers as notes or exceptions - without I/O, so the
sync and the async client send the same requests and read answers the same way."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import TypeAdapter

from service.client.context import current_request_id
from service.client.errors import ProblemError, error_for
from service.client.models import Note

NoteRef = Note | int
Order = Literal["asc", "desc"]
_NOTES = TypeAdapter(list[Note])


@dataclass(frozen=True)
class Call:
    method: str
    url: httpx.URL | str
    params: Mapping[str, str] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def retry_safe(self) -> bool:
        """Whether sending it twice does what sending it once does (see `retry`)."""
        return self.method != "POST" or "Idempotency-Key" in self.headers

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if (request_id := current_request_id.get()) is not None:
            headers["X-Request-ID"] = request_id
        return headers


@dataclass(frozen=True)
class Answer:
    response: httpx.Response
    attempts: int
    maybe_applied: bool  # an earlier attempt may have been applied; its answer was lost

    def error(self) -> ProblemError:
        return error_for(self.response, attempts=self.attempts, maybe_applied=self.maybe_applied)


def create(text: str, completed: bool, idempotency_key: str | None) -> Call:
    key = idempotency_key or str(uuid.uuid4())
    body = {"text": text, "completed": completed}
    return Call("POST", "/notes", json=body, headers={"Idempotency-Key": key})


def get(note_id: int, cached: Note | None) -> Call:
    headers = {"If-None-Match": cached.etag} if cached is not None else {}
    return Call("GET", f"/notes/{note_id}", headers=headers)


def list_first_page(
    *, completed: bool | None, q: str | None, order: Order, page_size: int, after: int | None
) -> Call:
    params = {"limit": str(page_size), "order": order}
    if completed is not None:
        params["completed"] = "true" if completed else "false"
    if q:
        params["q"] = q
    if after is not None:
        params["after"] = str(after)
    return Call("GET", "/notes", params=params)


def write(method: str, target: NoteRef, body: Any = None) -> Call:
    """PATCH, PUT or DELETE; conditional (If-Match) when given a Note rather than an id."""
    headers = {"If-Match": target.etag} if isinstance(target, Note) else {}
    return Call(method, f"/notes/{note_id(target)}", json=body, headers=headers)


def note_id(target: NoteRef) -> int:
    return target.id if isinstance(target, Note) else target


def changes(text: str | None, completed: bool | None) -> dict[str, Any]:
    """A PATCH body: the fields given (None means "leave as it is"; null is never valid)."""
    body: dict[str, Any] = {}
    if text is not None:
        body["text"] = text
    if completed is not None:
        body["completed"] = completed
    return body


def note_from(answer: Answer, cached: Note | None = None) -> Note:
    response = answer.response
    if response.status_code == 304 and cached is not None:
        return cached
    if not response.is_success:
        raise answer.error()
    return Note.model_validate_json(response.content)


def notes_from(answer: Answer) -> list[Note]:
    if not answer.response.is_success:
        raise answer.error()
    return _NOTES.validate_json(answer.response.content)


def deleted(answer: Answer) -> None:
    status = answer.response.status_code
    # A 404 after an attempt whose answer was lost: that attempt deleted it.
    if answer.response.is_success or (status == 404 and answer.maybe_applied):
        return
    raise answer.error()


def written_by_us(current: Note, sent: Note, body: Mapping[str, Any]) -> bool:
    """After a 412 on a retried conditional write: whether the lost first attempt made
    `current` - exactly one version later, holding exactly what we sent."""
    same_values = all(getattr(current, name) == value for name, value in body.items())
    return current.version == sent.version + 1 and same_values


DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def default_headers(api_key: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "notes-client/1.0"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers
