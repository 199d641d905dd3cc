"""NotesClient: the blocking client. What it shares with the asyncio one is in `base`; here is
only its I/O: sending with retries, waiting, iterating pages, closing."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

import httpx

from notes_client import calls
from notes_client.answers import Answer, changes_from, notes_from
from notes_client.base import BaseNotesClient
from notes_client.calls import Call, NoteRef
from notes_client.errors import PreconditionFailed
from notes_client.models import Change, Note


class NotesClient(BaseNotesClient[httpx.Client, Iterator[Note]]):
    """A typed client of the notes service, safe to share between threads.

        with NotesClient("http://notes:8000", api_key=key) as notes:
            note = notes.create("Buy milk")               # retried safely: Idempotency-Key
            note = notes.patch(note, completed=True)      # If-Match: note.version, else 412
            for open_note in notes.list(completed=False): # every page, following Link
                ...

    Errors are `NotesError`s (`notes_client.errors`).
    """

    def _open(
        self, base_url: str, headers: dict[str, str], verify: ssl.SSLContext | bool
    ) -> httpx.Client:
        return httpx.Client(base_url=base_url, headers=headers, verify=verify)

    def __enter__(self) -> NotesClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create(
        self, text: str, *, completed: bool = False, idempotency_key: str | None = None
    ) -> Note:
        """POST /notes. Sends an Idempotency-Key (a new UUID unless you pass one, e.g. one
        derived from the message you are handling), so retries never create a second note."""
        return self._note(self._send(calls.create(text, completed, idempotency_key)))

    def get(self, note_id: int) -> Note:
        """GET /notes/{id}; with a cache, a conditional GET that reuses an unchanged note."""
        return self._note(self._send(self._get(note_id)))

    def patch(
        self, note: NoteRef, *, text: str | None = None, completed: bool | None = None
    ) -> Note:
        """PATCH the given fields; conditional on `note.version` when given a Note."""
        return self._write(calls.patch(note, text, completed))

    def replace(self, note: NoteRef, *, text: str, completed: bool) -> Note:
        """PUT: replace text and completed; conditional on `note.version` when given a Note."""
        return self._write(calls.replace(note, text, completed))

    def delete(self, note: NoteRef) -> None:
        """DELETE; conditional on `note.version` when given a Note."""
        self._deleted(self._send(calls.delete(note)))

    def changes(
        self, after: int = 0, *, wait: float = 30, page_size: int = 100
    ) -> Iterator[Change]:
        """GET /notes/changes, endlessly: every change of your notes after the cursor `after`
        (0: from the oldest change retained), in commit order, following `Link` and
        long-polling `wait` seconds when there is nothing new. Each page is retried within the
        RetryPolicy; to resume after an error, call again with the `seq` of the last change
        you applied. A cursor the feed no longer holds raises CursorExpired: list() every note
        again, then follow `changes(after=error.resync_after)`."""
        call = calls.changes(after, wait, page_size)
        while True:
            answer = self._send(call)
            yield from changes_from(answer)
            call = self._next_changes(answer)

    def _write(self, call: Call) -> Note:
        try:
            return self._note(self._send(call))
        except PreconditionFailed as failed:
            return self._rechecked(call, failed, self._send(self._recheck(call, failed)))

    def _pages(self, call: Call | None) -> Iterator[Note]:
        while call is not None:
            answer = self._send(call)
            yield from notes_from(answer)
            call = self._next_page(answer)

    def _send(self, call: Call) -> Answer:
        exchange = self._exchange(call)
        while True:
            with exchange.attempt() as request:
                try:
                    outcome = exchange.answered(self._http.send(request))
                except httpx.TransportError as error:
                    outcome = exchange.failed(error)
            if isinstance(outcome, Answer):
                return outcome
            time.sleep(outcome)
