"""The change feed's guarantees between real uvicorn processes on one database: two replicas
on PostgreSQL, one on SQLite (several processes writing one SQLite file is not a supported
deployment; its single writer orders the feed anyway).

- exact order under concurrent writers: followers at every replica, following Link from
  after=0 with long polls, see every acknowledged write once, each note's versions in order;
- a change committed after a later one was read still reaches the follower, next in line;
- wake-ups across replicas within a second (the shared poller);
- Server-Sent Events through the whole middleware stack, resumed with Last-Event-ID, with
  heartbeats;
- SIGTERM answers waiting long polls and ends streams at once: the drain does not wait.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import change_log
from service.config import Settings
from service.models import ANONYMOUS_CLIENT
from tests.databases import connect_to
from tests.servers import Server, running_server

pytestmark = pytest.mark.live

WRITERS = 8
NOTES_PER_WRITER = 3
UPDATES_PER_NOTE = 4
SHARED_NOTES = 2
FOLLOWERS_PER_REPLICA = 2


@pytest.fixture
async def clients(replicas: list[Server]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(httpx.AsyncClient(base_url=server.base_url, timeout=60))
            for server in replicas
        ]


async def follow(client: httpx.AsyncClient, stop_at_note: asyncio.Future[int]) -> list[Any]:
    """Follow Link from after=0 with long polls (small pages) until the change that creates
    the note `stop_at_note` names; every change seen, in the order seen."""
    seen: list[dict[str, Any]] = []
    url = "/notes/changes?after=0&limit=7&wait=2"
    while True:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(page)
        url = response.links["next"]["url"]
        if page:
            assert f"after={page[-1]['seq']}" in url
        # The sentinel's change may arrive before its POST is answered: look at all seen.
        if stop_at_note.done() and any(
            change["note_id"] == stop_at_note.result() for change in seen
        ):
            return seen


async def write_own_notes(client_for: Any, writer: int) -> list[tuple[int, int]]:
    """Create, change and delete notes of its own; (note id, version) of each acknowledged write."""
    acknowledged = []
    for index in range(NOTES_PER_WRITER):
        created = await client_for(index).post("/notes", json={"text": f"w{writer} n{index}"})
        assert created.status_code == 201
        note_id = created.json()["id"]
        acknowledged.append((note_id, 1))
        for version in range(2, UPDATES_PER_NOTE + 2):
            updated = await client_for(index + version).patch(
                f"/notes/{note_id}", json={"text": f"w{writer} n{index} v{version}"}
            )
            assert updated.status_code == 200
            assert updated.json()["version"] == version
            acknowledged.append((note_id, version))
        deleted = await client_for(index + 1).delete(f"/notes/{note_id}")
        assert deleted.status_code == 204
    return acknowledged


async def test_followers_at_every_replica_see_every_write_once_in_version_order(
    clients: list[httpx.AsyncClient],
) -> None:
    shared = [
        (await clients[0].post("/notes", json={"text": f"shared {n}"})).json()["id"]
        for n in range(SHARED_NOTES)
    ]
    sentinel: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    followers = [
        asyncio.create_task(follow(client, sentinel))
        for client in clients
        for _ in range(FOLLOWERS_PER_REPLICA)
    ]

    async def writer(number: int) -> list[tuple[int, int]]:
        def client_for(step: int) -> httpx.AsyncClient:
            return clients[(number + step) % len(clients)]

        acknowledged = await write_own_notes(client_for, number)
        for step in range(UPDATES_PER_NOTE):  # contended: every writer patches the shared notes
            note_id = shared[step % SHARED_NOTES]
            response = await client_for(step).patch(
                f"/notes/{note_id}", json={"text": f"shared by w{number} s{step}"}
            )
            assert response.status_code == 200
            acknowledged.append((note_id, response.json()["version"]))
        return acknowledged

    written = await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    last = await clients[-1].post("/notes", json={"text": "sentinel"})
    sentinel.set_result(last.json()["id"])
    seen_by_follower = await asyncio.wait_for(asyncio.gather(*followers), 120)

    complete = (await clients[0].get("/notes/changes?limit=1000")).json()
    for seen in seen_by_follower:
        assert seen == complete  # the same changes, once each, in the same order
    seqs = [change["seq"] for change in complete]
    assert seqs == sorted(set(seqs))  # strictly increasing
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # nothing skipped

    by_note: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for change in complete:
        by_note[change["note_id"]].append((change["type"], change["version"]))
        if change["note"] is not None:
            assert change["note"]["version"] == change["version"]
    for note_id, history in by_note.items():
        versions = [version for _, version in history]
        types = [kind for kind, _ in history]
        if types[-1] == "deleted":
            assert versions[-1] == versions[-2], (note_id, history)
            versions, types = versions[:-1], types[:-1]
        assert versions == list(range(1, len(versions) + 1)), (note_id, history)
        assert types == ["created"] + ["updated"] * (len(types) - 1), (note_id, history)
    for own_and_shared in written:
        for note_id, version in own_and_shared:  # every acknowledged write has its change
            assert (note_id, version) in {
                (c["note_id"], c["version"]) for c in complete if c["type"] != "deleted"
            }
    own_notes = {note_id for note_id, history in by_note.items() if note_id not in shared}
    assert len(own_notes) == WRITERS * NOTES_PER_WRITER + 1  # + the sentinel
    expected_shared = SHARED_NOTES + WRITERS * UPDATES_PER_NOTE
    assert sum(len(by_note[note_id]) for note_id in shared) == expected_shared


async def test_a_follower_waiting_at_one_replica_sees_a_change_written_at_another_within_a_second(
    clients: list[httpx.AsyncClient], settings: Settings
) -> None:
    waiting_at, writing_at = clients[-1], clients[0]  # two processes on PostgreSQL
    cursor = 0
    delays = []
    for sample in range(20):
        poll = asyncio.create_task(
            waiting_at.get("/notes/changes", params={"after": cursor, "wait": 10})
        )
        await asyncio.sleep(0.1)  # the long poll is waiting
        written = await writing_at.post("/notes", json={"text": f"sample {sample}"})
        acknowledged = time.monotonic()
        response = await poll
        delays.append(time.monotonic() - acknowledged)
        page = response.json()
        assert [change["note"] for change in page] == [written.json()]
        cursor = page[-1]["seq"]
    delays.sort()
    assert delays[int(len(delays) * 0.99)] < 1.0, delays


@pytest.fixture(scope="module")
def streaming_server(settings: Settings, tmp_dir: Path) -> Iterator[Server]:
    env = {"DATABASE_URL": settings.DATABASE_URL, "CHANGES_HEARTBEAT_SECONDS": "0.3"}
    with running_server(env, tmp_dir) as server:
        yield server


class EventReader:
    """Reads a text/event-stream response event by event; comment lines go to `comments`."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next(self, count: int) -> list[dict[str, str]]:
        events: list[dict[str, str]] = []
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line.startswith(":"):
                self.comments.append(line)
            elif line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif fields:
                events.append(fields)
                fields = {}
                if len(events) == count:
                    return events
        raise AssertionError(f"the stream ended after {len(events)} events")

    async def rest(self) -> list[str]:
        return [line async for line in self._lines]


async def test_the_feed_as_server_sent_events_resumes_after_last_event_id(
    streaming_server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=streaming_server.base_url, timeout=30) as client:
        first = (await client.post("/notes", json={"text": "before"})).json()
        headers = {"Accept": "text/event-stream"}
        async with client.stream("GET", "/notes/changes", headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = EventReader(stream)
            (created,) = await events.next(1)
            second = (await client.post("/notes", json={"text": "live"})).json()
            patched = await client.patch(f"/notes/{second['id']}", json={"completed": True})
            live = await events.next(2)
            await asyncio.sleep(1)  # idle: heartbeats
            await client.delete(f"/notes/{first['id']}")
            (deleted,) = await events.next(1)

        assert json.loads(created["data"])["note"] == first
        assert created["event"] == "created"
        assert [event["event"] for event in live] == ["created", "updated"]
        assert json.loads(live[1]["data"])["note"] == patched.json()
        assert [int(e["id"]) for e in [created, *live]] == [
            json.loads(e["data"])["seq"] for e in [created, *live]
        ]
        assert deleted["event"] == "deleted"
        assert json.loads(deleted["data"])["note"] is None
        assert events.comments
        assert all(comment.startswith(": ping") for comment in events.comments)

        resume = {**headers, "Last-Event-ID": live[0]["id"]}
        async with client.stream(
            "GET", "/notes/changes?after=0", headers=resume
        ) as resumed:  # Last-Event-ID takes the place of `after`
            again = await EventReader(resumed).next(2)
        assert again == [live[1], deleted]


async def test_sigterm_answers_waiting_long_polls_and_ends_streams_at_once(
    settings: Settings, tmp_dir: Path
) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "SHUTDOWN_GRACE_SECONDS": "30"}
    with running_server(env, tmp_dir) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=90) as client:
            await client.post("/notes", json={"text": "seen"})
            head = (await client.get("/notes/changes")).json()[-1]["seq"]
            long_poll = asyncio.create_task(
                client.get("/notes/changes", params={"after": head, "wait": 60})
            )
            async with client.stream(
                "GET", "/notes/changes", headers={"Accept": "text/event-stream"}
            ) as stream:
                events = EventReader(stream)
                await events.next(1)
                await asyncio.sleep(0.5)
                signalled = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                rest = await events.rest()  # the stream ends: no hang
            answered = await long_poll
            exit_code = await asyncio.to_thread(server.process.wait, 15)
            elapsed = time.monotonic() - signalled

    assert answered.status_code == 200
    assert answered.json() == []
    assert f"after={head}" in answered.links["next"]["url"]
    assert not [line for line in rest if line.startswith("data:")]
    assert exit_code == 0
    assert elapsed < 10, elapsed


@pytest.mark.postgres_only(reason="only PostgreSQL has concurrent writers to commit out of order")
async def test_a_change_committed_after_a_later_one_was_read_still_reaches_the_follower(
    settings: Settings, live_server: Server
) -> None:
    """The window of guarantee 1: write A inserts its change, write B inserts its own (a
    higher id) and commits, a follower reads B's and moves its cursor past it, then A
    commits. A is held open on a raw connection, running the service's own statement."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
        cursor = await head_of_feed(client)
        held = await connect_to(settings.DATABASE_URL)
        try:
            transaction = held.transaction()
            await transaction.start()
            rows = await held.fetch(
                change_log.PG_CREATE, ANONYMOUS_CLIENT, "A: in flight", False, datetime.now(UTC)
            )
            late_id = rows[0]["id"]
            written = await client.post("/notes", json={"text": "B: committed first"})
            assert written.status_code == 201
            page = (await client.get("/notes/changes", params={"after": cursor})).json()
            assert [change["note_id"] for change in page] == [written.json()["id"]]
            cursor = page[-1]["seq"]
            waiting = asyncio.create_task(
                client.get("/notes/changes", params={"after": cursor, "wait": 10})
            )
            await asyncio.sleep(0.3)  # the follower waits past B
            await transaction.commit()
        finally:
            await held.close()
        late = (await waiting).json()
    assert [(change["note_id"], change["seq"]) for change in late] == [(late_id, cursor + 1)]
    assert late[0]["note"]["text"] == "A: in flight"


async def head_of_feed(client: httpx.AsyncClient) -> int:
    """The seq of the last change so far (following Link to the end)."""
    cursor = 0
    while page := (
        await client.get("/notes/changes", params={"after": cursor, "limit": 1000})
    ).json():
        cursor = page[-1]["seq"]
    return cursor
