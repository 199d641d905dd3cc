"""`changes()` on both clients against the real service: follows Link, long-polls, retries a
failed page within its policy, raises CursorExpired with the resync point. The docs/client.md
"keep a local copy in sync" follower runs as written in test_guide.py."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from tortoise import connections

from notes_client import AsyncNotesClient, Change, CursorExpired, NotesClient
from service import changes as feed
from tests.client.conftest import QUICK
from tests.client.faults import FaultProxy


def test_changes_follows_the_feed_from_the_start(notes: NotesClient) -> None:
    note = notes.create("first")
    note = notes.patch(note, completed=True)
    notes.delete(note)

    seen = []
    for change in notes.changes(after=0, wait=1, page_size=2):  # two pages, then a long poll
        seen.append(change)
        if len(seen) == 3:
            break

    assert all(isinstance(change, Change) for change in seen)
    assert [(c.type, c.version) for c in seen] == [("created", 1), ("updated", 2), ("deleted", 2)]
    assert seen[1].note == note
    assert seen[2].note is None
    assert [c.seq for c in seen] == sorted({c.seq for c in seen})


def test_changes_long_polls_until_a_change_comes(notes: NotesClient) -> None:
    notes.create("before")
    cursor = next(iter(notes.changes(wait=0))).seq
    timer = threading.Timer(1.0, notes.create, args=("later",))
    timer.start()
    started = time.monotonic()
    try:
        change = next(iter(notes.changes(after=cursor, wait=20)))
    finally:
        timer.join()

    assert change.note is not None
    assert change.note.text == "later"
    assert 0.5 < time.monotonic() - started < 10


def test_changes_retries_a_failed_page_and_resumes_after_the_last_change(
    proxy: FaultProxy, notes: NotesClient
) -> None:
    for index in range(3):
        notes.create(f"note {index}")
    with NotesClient(proxy.base_url, retry=QUICK) as client:
        feed_iter = iter(client.changes(wait=0, page_size=2))
        first_page = [next(feed_iter), next(feed_iter)]
        proxy.inject("503", method="GET", times=1)
        rest = next(feed_iter)

    assert [c.seq for c in [*first_page, rest]] == sorted({c.seq for c in [*first_page, rest]})
    requests = [e.path for e in proxy.requests("GET")]
    assert requests[-1] == requests[-2]  # the failed page was asked for again
    assert f"after={first_page[-1].seq}" in requests[-1]


async def test_a_cursor_past_retention_raises_cursor_expired_with_the_resync_point(
    notes: NotesClient,
) -> None:
    for index in range(2):
        notes.create(f"old {index}")
    next(iter(notes.changes(after=1, wait=0)))  # read, so numbered: the purge takes only those
    await age_all_changes()
    await feed.purge_expired(timedelta(hours=1))
    latest = notes.create("new")

    with pytest.raises(CursorExpired) as expired:
        next(iter(notes.changes(after=1, wait=0)))
    assert expired.value.status == 410
    assert expired.value.resync_after == next(iter(notes.changes(wait=0))).seq
    assert next(iter(notes.changes(wait=0))).note == latest


async def age_all_changes() -> None:
    db = connections.get("default")
    sql = {
        "postgres": "UPDATE note_changes SET at = at - interval '10 days'",
        "sqlite": "UPDATE note_changes SET at = datetime(at, '-10 days')",
    }[db.capabilities.dialect]
    await db.execute_query(sql, [])


async def test_async_changes_follows_the_feed_and_long_polls(
    async_notes: AsyncNotesClient,
) -> None:
    created = await async_notes.create("first")
    seen: list[Change] = []

    async def follow() -> None:
        async for change in async_notes.changes(wait=20, page_size=1):
            seen.append(change)
            if len(seen) == 2:
                return

    following = asyncio.create_task(follow())
    await asyncio.sleep(1)
    assert len(seen) == 1
    updated = await async_notes.patch(created, text="second")
    await asyncio.wait_for(following, 15)

    assert [c.note for c in seen] == [created, updated]


async def test_async_changes_raises_cursor_expired(async_notes: AsyncNotesClient) -> None:
    await async_notes.create("old")
    await async_notes.create("older")
    await anext(aiter(async_notes.changes(after=1, wait=0)))  # read, so numbered
    await age_all_changes()
    await feed.purge_expired(timedelta(hours=1))
    await async_notes.create("new")

    with pytest.raises(CursorExpired) as expired:
        await anext(aiter(async_notes.changes(after=1, wait=0)))
    assert expired.value.resync_after == 3
