"""AsyncNotesClient: the asyncio client. What it shares with the blocking one is in `base`;
here is only its I/O: sending with retries, waiting, iterating pages, closing."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import httpx

from notes_client import calls
from notes_client.answers import Answer, changes_from, notes_from
from notes_client.base import BaseNotesClient
from notes_client.calls import Call, NoteRef
from notes_client.errors import PreconditionFailed
from notes_client.models import Change, Note


class AsyncNotesClient(BaseNotesClient[httpx.AsyncClient, AsyncIterator[Note]]):
    """A typed asyncio client of the notes service, safe to share between tasks.

        async with AsyncNotesClient("http://notes:8000", api_key=key) as notes:
            note = await notes.create("Buy milk")
            note = await notes.patch(note, completed=True)
            async for open_note in notes.list(completed=False):
                ...

    The same methods as `NotesClient`, awaited; the same errors.
    """

    def _open(
        self, base_url: str, headers: dict[str, str], verify: ssl.SSLContext | bool
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, headers=headers, verify=verify)

    async def __aenter__(self) -> AsyncNotesClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create(
        self, text: str, *, completed: bool = False, idempotency_key: str | None = None
    ) -> Note:
        """POST /notes with an Idempotency-Key (see `NotesClient.create`)."""
        return self._note(await self._send(calls.create(text, completed, idempotency_key)))

    async def get(self, note_id: int) -> Note:
        """GET /notes/{id} (conditional on a cached copy, if any)."""
        return self._note(await self._send(self._get(note_id)))

    async def patch(
        self, note: NoteRef, *, text: str | None = None, completed: bool | None = None
    ) -> Note:
        """PATCH the given fields (If-Match when given a Note)."""
        return await self._write(calls.patch(note, text, completed))

    async def replace(self, note: NoteRef, *, text: str, completed: bool) -> Note:
        """PUT text and completed (If-Match when given a Note)."""
        return await self._write(calls.replace(note, text, completed))

    async def delete(self, note: NoteRef) -> None:
        """DELETE (If-Match when given a Note)."""
        self._deleted(await self._send(calls.delete(note)))

    async def changes(
        self, after: int = 0, *, wait: float = 30, page_size: int = 100
    ) -> AsyncIterator[Change]:
        """GET /notes/changes, endlessly: every change after `after` (see `NotesClient.changes`)."""
        call = calls.changes(after, wait, page_size)
        while True:
            answer = await self._send(call)
            for change in changes_from(answer):
                yield change
            call = self._next_changes(answer)

    async def _write(self, call: Call) -> Note:
        try:
            return self._note(await self._send(call))
        except PreconditionFailed as failed:
            recheck = self._recheck(call, failed)
            return self._rechecked(call, failed, await self._send(recheck))

    async def _pages(self, call: Call | None) -> AsyncIterator[Note]:
        while call is not None:
            answer = await self._send(call)
            for note in notes_from(answer):
                yield note
            call = self._next_page(answer)

    async def _send(self, call: Call) -> Answer:
        exchange = self._exchange(call)
        while True:
            with exchange.attempt() as request:
                try:
                    outcome = exchange.answered(await self._http.send(request))
                except httpx.TransportError as error:
                    outcome = exchange.failed(error)
            if isinstance(outcome, Answer):
                return outcome
            await asyncio.sleep(outcome)
