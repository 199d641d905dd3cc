"""notes-client: a typed Python client for the notes service, for other services to call it.

Needs only httpx and pydantic: nothing here imports the server.

    from notes_client import NotesClient, PreconditionFailed, request_id

    with NotesClient("http://notes:8000", api_key=os.environ.get("NOTES_API_KEY")) as notes:
        with request_id("order-7f3a"):              # X-Request-ID on every call inside
            note = notes.create("Ship order 7f3a")  # retried safely: sends an Idempotency-Key
        try:
            note = notes.patch(note, completed=True)  # If-Match: note's version
        except PreconditionFailed:
            ...                                       # someone changed it first: re-read, merge
        for note in notes.list(completed=False, page_size=200):  # follows Link, page by page
            print(note.id, note.text)
        for change in notes.changes(after=0, wait=30):  # every change, endlessly (long polls)
            print(change.seq, change.type, change.note_id)

`AsyncNotesClient` has the same methods, awaited (`async for` over `list`). Every attempt has
timeouts; what is safe to repeat is retried with backoff within a deadline (`RetryPolicy`);
writes given a `Note` are conditional; `cache_size=N` revalidates notes with If-None-Match;
error answers raise the exceptions drawn in `notes_client.errors`. The guide is docs/client.md
in the notes service's repository.

Modules: `calls` (arguments -> requests) and `answers` (responses -> notes or errors),
`exchange` and `retry` (one call's attempts), `base` (what both clients share), `sync_client`
and `async_client` (their I/O only); `models`, `errors`, `cache`, `context` (request ids),
`wire` (response headers), `version`, `tracing` (a span per attempt, with the [tracing]
extra: OpenTelemetry's API).
"""

from notes_client.async_client import AsyncNotesClient
from notes_client.context import current_request_id, request_id
from notes_client.errors import (
    CursorExpired,
    FieldError,
    IdempotencyKeyReused,
    NoteNotFound,
    NotesError,
    PreconditionFailed,
    PreconditionRequired,
    ProblemError,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    ServiceUnreachable,
    Unauthorized,
    ValidationFailed,
)
from notes_client.models import Change, Note
from notes_client.retry import RetryPolicy
from notes_client.sync_client import NotesClient
from notes_client.version import __version__

__all__ = [
    "AsyncNotesClient",
    "Change",
    "CursorExpired",
    "FieldError",
    "IdempotencyKeyReused",
    "Note",
    "NoteNotFound",
    "NotesClient",
    "NotesError",
    "PreconditionFailed",
    "PreconditionRequired",
    "ProblemError",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "ServiceUnreachable",
    "Unauthorized",
    "ValidationFailed",
    "__version__",
    "current_request_id",
    "request_id",
]
