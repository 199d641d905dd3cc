"""AsyncNotesClient against the real service: the same calls as NotesClient, awaited."""

from __future__ import annotations

import asyncio

import pytest

from notes_client import (
    AsyncNotesClient,
    NoteNotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
    request_id,
)
from tests.client.faults import FaultProxy


async def test_every_endpoint(async_notes: AsyncNotesClient) -> None:
    note = await async_notes.create("async", completed=True)
    fetched = await async_notes.get(note.id)
    patched = await async_notes.patch(note, text="async, patched")
    replaced = await async_notes.replace(patched, text="async, replaced", completed=False)
    await async_notes.delete(replaced)

    assert fetched == note
    assert (patched.version, patched.text, patched.completed) == (2, "async, patched", True)
    assert (replaced.version, replaced.completed) == (3, False)
    with pytest.raises(NoteNotFound):
        await async_notes.get(note.id)


async def test_list_follows_link_pages(async_notes: AsyncNotesClient) -> None:
    created = [await async_notes.create(f"page note {i}") for i in range(5)]

    listed = [note async for note in async_notes.list(page_size=2)]
    newest_first = [note async for note in async_notes.list(order="desc", page_size=3)]

    assert listed == created
    assert newest_first == created[::-1]


async def test_errors_are_the_same_exceptions(async_notes: AsyncNotesClient) -> None:
    note = await async_notes.create("contested")
    await async_notes.patch(note, completed=True)

    with pytest.raises(PreconditionFailed):
        await async_notes.delete(note)
    with pytest.raises(ValidationFailed) as raised:
        await async_notes.replace(note.id, text="x" * 10_001, completed=False)
    assert [e.loc for e in raised.value.errors] == [("body", "text")]


async def test_each_task_sends_its_own_request_id(proxy: FaultProxy) -> None:
    async def work(name: str) -> None:
        with request_id(name):
            await asyncio.sleep(0.01)
            await notes.create(name)

    async with AsyncNotesClient(proxy.base_url) as notes:
        await asyncio.gather(*(work(f"task-{i}") for i in range(5)))

    sent = {(e.headers["x-request-id"], e.status) for e in proxy.requests("POST")}
    assert sent == {(f"task-{i}", 201) for i in range(5)}


async def test_unauthorized_with_a_wrong_key(keyed_base_url: str) -> None:
    async with AsyncNotesClient(keyed_base_url, api_key="nsk_wrong") as notes:
        with pytest.raises(Unauthorized) as raised:
            await notes.create("no")

    assert raised.value.status == 401
    assert raised.value.response.headers["www-authenticate"].startswith("Bearer")
