"""notes-client: a typed Python client for the notes service, for other services to call it.

Needs only httpx and pydantic: nothing here imports the server. The guide is the service's
docs/client.md; in short:

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

`AsyncNotesClient` has the same methods, awaited (`async for` over `list`).

What the client does for you:
- timeouts on every attempt (`timeout`, default 3 s to connect, 10 s per read or write);
- retries with exponential backoff and full jitter on connection failures, 429 and 503
  (honouring Retry-After), within a total deadline, and only where repeating is safe
  (`RetryPolicy`, in `notes_client.retry`);
- `create` sends an `Idempotency-Key` (a UUID per call, reused by its retries), so a create
  whose answer was lost and is retried makes exactly one note;
- writes given a `Note` are conditional (If-Match on its version) and raise
  PreconditionFailed on a 412 - except when the 412 only says that an earlier attempt of the
  same call, whose answer was lost, already made the change: then you get that note;
  a DELETE whose lost attempt already deleted the note succeeds likewise;
- `cache_size=N` keeps N notes and revalidates them with If-None-Match (304: no body);
- problem+json answers become exceptions (the tree is drawn in `notes_client.errors`).

The modules: `calls` (arguments -> requests), `answers` (responses -> notes or errors),
`exchange` and `retry` (one call's attempts), `base` (what both clients share),
`sync_client` and `async_client` (their I/O only); `models`, `errors`, `cache`, `context`,
`wire` (headers) and `version`.
"""

from notes_client.async_client import AsyncNotesClient
from notes_client.context import current_request_id, request_id
from notes_client.errors import (
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
from notes_client.models import Note
from notes_client.retry import RetryPolicy
from notes_client.sync_client import NotesClient
from notes_client.version import __version__

__all__ = [
    "AsyncNotesClient",
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
