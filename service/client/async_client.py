"""AsyncNotesClient: the asyncio client (the blocking one is `sync_client.NotesClient`)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from types import TracebackType

import httpx

from service.client import calls
from service.client.cache import NoteCache
from service.client.calls import Answer, Call, NoteRef, Order
from service.client.errors import NoteNotFound, PreconditionFailed, ServiceUnreachable
from service.client.models import Note
from service.client.retry import RetryPolicy
from service.client.wire import next_page


class AsyncNotesClient:
    """A typed asyncio client of the notes service, safe to share between tasks.

        async with AsyncNotesClient("http://notes:8000", api_key=key) as notes:
            note = await notes.create("Buy milk")
            note = await notes.patch(note, completed=True)
            async for open_note in notes.list(completed=False):
                ...

    `api_key` is sent as `Authorization: Bearer` on every call; `timeout` bounds each
    attempt, `retry` the whole call (see `RetryPolicy`); `cache_size` > 0 keeps that many
    notes for conditional GETs; `verify` is the TLS verification (an `ssl.SSLContext` for a
    private CA or client certificates). Errors are `NotesError`s (`service.client.errors`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: httpx.Timeout | float = calls.DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        cache_size: int = 0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._cache = NoteCache(cache_size)
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=calls.default_headers(api_key), verify=verify
        )

    async def __aenter__(self) -> AsyncNotesClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create(
        self, text: str, *, completed: bool = False, idempotency_key: str | None = None
    ) -> Note:
        """POST /notes. Sends an Idempotency-Key (a new UUID unless you pass one, e.g. one
        derived from the message you are handling), so retries never create a second note."""
        call = calls.create(text, completed, idempotency_key)
        return self._cache.put(calls.note_from(await self._send(call)))

    async def get(self, note_id: int) -> Note:
        """GET /notes/{id}; with a cache, a conditional GET that reuses an unchanged note."""
        cached = self._cache.get(note_id) if self._cache.size else None
        answer = await self._send(calls.get(note_id, cached))
        return self._cache.put(calls.note_from(answer, cached))

    async def list(
        self,
        *,
        completed: bool | None = None,
        q: str | None = None,
        order: Order = "asc",
        page_size: int = 100,
        after: int | None = None,
    ) -> AsyncIterator[Note]:
        """GET /notes, page after page (following `Link: rel="next"`) as you iterate."""
        call: Call | None = calls.list_first_page(
            completed=completed, q=q, order=order, page_size=page_size, after=after
        )
        while call is not None:
            answer = await self._send(call)
            for note in calls.notes_from(answer):
                yield note
            link = next_page(answer.response, self._http.base_url)
            call = Call("GET", link) if link is not None else None

    async def patch(
        self, note: NoteRef, *, text: str | None = None, completed: bool | None = None
    ) -> Note:
        """PATCH the given fields; conditional on `note.version` when given a Note."""
        body = calls.changes(text, completed)
        return await self._write(calls.write("PATCH", note, body), note, body)

    async def replace(self, note: NoteRef, *, text: str, completed: bool) -> Note:
        """PUT: replace text and completed; conditional on `note.version` when given a Note."""
        body = {"text": text, "completed": completed}
        return await self._write(calls.write("PUT", note, body), note, body)

    async def delete(self, note: NoteRef) -> None:
        """DELETE; conditional on `note.version` when given a Note."""
        calls.deleted(await self._send(calls.write("DELETE", note)))
        self._cache.forget(calls.note_id(note))

    async def _write(self, call: Call, target: NoteRef, body: dict[str, object]) -> Note:
        try:
            return self._cache.put(calls.note_from(await self._send(call)))
        except PreconditionFailed as failed:
            # The answer to an earlier attempt was lost: was the write that moved the
            # version on our own? Then it succeeded, and the caller must not be told otherwise.
            if not (failed.maybe_applied and isinstance(target, Note)):
                raise
            try:
                current = await self.get(target.id)
            except NoteNotFound:
                raise failed from None
            if calls.written_by_us(current, target, body):
                return current
            raise

    async def _send(self, call: Call) -> Answer:
        attempts = self._retry.start()
        while True:
            attempts.begin()
            try:
                response = await self._http.request(
                    call.method,
                    call.url,
                    params=call.params,
                    json=call.json,
                    headers=call.request_headers(),
                    timeout=attempts.timeout(self._timeout),
                )
            except httpx.TransportError as error:
                delay = attempts.after_error(error, retry_safe=call.retry_safe)
                if delay is None:
                    raise ServiceUnreachable(
                        f"{call.method} {call.url}: no answer after {attempts.count} attempt(s): "
                        f"{error!r}",
                        attempts=attempts.count,
                    ) from error
            else:
                delay = attempts.after_response(response, retry_safe=call.retry_safe)
                if delay is None:
                    return Answer(response, attempts.count, attempts.maybe_applied)
                await response.aclose()
            await asyncio.sleep(delay)
