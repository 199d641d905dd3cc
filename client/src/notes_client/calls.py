"""The client's calls as data: each method's arguments become a `Call` (what to send, and
what its answer is read against), without I/O, so both clients send the same requests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from notes_client.context import current_request_id
from notes_client.models import Note
from notes_client.version import USER_AGENT

NoteRef = Note | int
Order = Literal["asc", "desc"]

# The paths' templates: what a call is called in traces, whatever note it is about.
NOTES = "/notes"
NOTE = "/notes/{note_id}"
CHANGES = "/notes/changes"

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class Call:
    method: str
    url: httpx.URL | str
    template: str  # the path's template (NOTES or NOTE), to name its spans by
    params: Mapping[str, str] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    target: NoteRef | None = None  # the note a write is about: a Note makes it conditional
    cached: Note | None = None  # the cached note a conditional GET revalidates
    wait: float = 0.0  # a long poll: the server may hold its answer this many seconds

    @property
    def retry_safe(self) -> bool:
        """Whether sending it twice does what sending it once does (see `retry`)."""
        return self.method != "POST" or "Idempotency-Key" in self.headers

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if (request_id := current_request_id.get()) is not None:
            headers["X-Request-ID"] = request_id
        return headers


def default_headers(api_key: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def create(text: str, completed: bool, idempotency_key: str | None) -> Call:
    key = idempotency_key or str(uuid.uuid4())
    body = {"text": text, "completed": completed}
    return Call("POST", NOTES, NOTES, json=body, headers={"Idempotency-Key": key})


def get(note_id: int, cached: Note | None) -> Call:
    headers = {"If-None-Match": cached.etag} if cached is not None else {}
    return Call("GET", f"/notes/{note_id}", NOTE, headers=headers, cached=cached)


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
    return Call("GET", NOTES, NOTES, params=params)


def changes(after: int, wait: float, page_size: int) -> Call:
    params = {"after": str(after), "limit": str(page_size), "wait": f"{wait:g}"}
    return Call("GET", CHANGES, CHANGES, params=params, wait=wait)


def patch(target: NoteRef, text: str | None, completed: bool | None) -> Call:
    """PATCH the fields given (None means "leave as it is"; null is never valid)."""
    body: dict[str, Any] = {}
    if text is not None:
        body["text"] = text
    if completed is not None:
        body["completed"] = completed
    return _write("PATCH", target, body)


def replace(target: NoteRef, text: str, completed: bool) -> Call:
    return _write("PUT", target, {"text": text, "completed": completed})


def delete(target: NoteRef) -> Call:
    return _write("DELETE", target, None)


def _write(method: str, target: NoteRef, body: dict[str, Any] | None) -> Call:
    """Conditional (If-Match) when given a Note rather than an id."""
    headers = {"If-Match": target.etag} if isinstance(target, Note) else {}
    url = f"/notes/{note_id(target)}"
    return Call(method, url, NOTE, json=body, headers=headers, target=target)


def note_id(target: NoteRef) -> int:
    return target.id if isinstance(target, Note) else target
