"""BaseNotesClient: all that the blocking and the asyncio client share, as httpx's
`BaseClient` is for its two clients - configuration, the calls each method sends, the cache,
and how answers are read. A subclass adds only I/O: it opens its httpx client (`_open`),
sends a call with its retries (`_send`, driving an `Exchange`), iterates pages (`_pages`),
and closes; its methods are a line or two over the helpers below.
"""

from __future__ import annotations

import ssl
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Generic, TypeVar

import httpx

from notes_client import answers, calls
from notes_client.answers import Answer
from notes_client.cache import NoteCache
from notes_client.calls import Call, Order
from notes_client.errors import PreconditionFailed
from notes_client.exchange import Exchange
from notes_client.models import Note
from notes_client.retry import RetryPolicy
from notes_client.wire import next_page

Http = TypeVar("Http", httpx.Client, httpx.AsyncClient)
Pages = TypeVar("Pages", bound=Iterator[Note] | AsyncIterator[Note])


class BaseNotesClient(ABC, Generic[Http, Pages]):
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
        """`api_key` is sent as `Authorization: Bearer` on every call; `timeout` bounds each
        attempt, `retry` the whole call (see `RetryPolicy`); `cache_size` > 0 keeps that many
        notes for conditional GETs; `verify` is the TLS verification (an `ssl.SSLContext` for
        a private CA or client certificates)."""
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._cache = NoteCache(cache_size)
        self._http: Http = self._open(base_url, calls.default_headers(api_key), verify)

    @abstractmethod
    def _open(self, base_url: str, headers: dict[str, str], verify: ssl.SSLContext | bool) -> Http:
        """The httpx client that sends this client's requests."""

    def list(
        self,
        *,
        completed: bool | None = None,
        q: str | None = None,
        order: Order = "asc",
        page_size: int = 100,
        after: int | None = None,
    ) -> Pages:
        """GET /notes, page after page (following `Link: rel="next"`) as you iterate."""
        first = calls.list_first_page(
            completed=completed, q=q, order=order, page_size=page_size, after=after
        )
        return self._pages(first)

    @abstractmethod
    def _pages(self, call: Call | None) -> Pages:
        """The notes of `call`'s page and of the pages after it, fetched as they are reached."""

    def _exchange(self, call: Call) -> Exchange:
        policy, timeout = self._retry, self._timeout
        if call.wait:  # a long poll: its answer may take `wait` seconds more than any other
            policy = replace(policy, deadline=policy.deadline + call.wait)
            timeout = httpx.Timeout(
                connect=timeout.connect,
                read=(timeout.read or 0) + call.wait,
                write=timeout.write,
                pool=timeout.pool,
            )
        return Exchange(call, policy.start(), timeout, self._http)

    def _next_changes(self, answer: Answer) -> Call:
        """The feed always has a next page: `Link` continues after its last change."""
        link = next_page(answer.response, self._http.base_url)
        if link is None:
            raise (
                answer.error()
                if not answer.response.is_success
                else RuntimeError("the change feed answered without a Link")
            )
        return Call("GET", link, calls.CHANGES, wait=answer.call.wait)

    def _get(self, note_id: int) -> Call:
        """GET one note; conditional (If-None-Match) on the cached copy, if there is one."""
        return calls.get(note_id, self._cache.get(note_id) if self._cache.size else None)

    def _note(self, answer: Answer) -> Note:
        return self._cache.put(answers.note_from(answer))

    def _deleted(self, answer: Answer) -> None:
        answers.deleted(answer)
        if answer.call.target is not None:
            self._cache.forget(calls.note_id(answer.call.target))

    def _next_page(self, answer: Answer) -> Call | None:
        link = next_page(answer.response, self._http.base_url)
        return Call("GET", link, calls.NOTES) if link is not None else None

    # A conditional write that meets a 412 after an attempt whose answer was lost may have
    # been stopped by that very attempt's success. The client then re-reads the note (the
    # call `_recheck` returns) and returns it if the lost attempt made it (`_rechecked`):
    # the caller must not be told that a write failed when it succeeded.

    def _recheck(self, write: Call, failed: PreconditionFailed) -> Call:
        """The GET that tells whether our lost attempt wrote; raises `failed` if it cannot."""
        if not (failed.maybe_applied and isinstance(write.target, Note)):
            raise failed
        return self._get(write.target.id)

    def _rechecked(self, write: Call, failed: PreconditionFailed, answer: Answer) -> Note:
        """The note our lost attempt wrote, read from the recheck's answer; else `failed`."""
        if answer.response.status_code == 404:
            raise failed from None
        current = self._note(answer)
        if answers.written_by_us(current, write):
            return current
        raise failed
