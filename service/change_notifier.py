"""Waking the followers that wait for a client's next change, in this process.

A long poll or a stream subscribes to its client's wake-ups *before* it reads the feed, so a
change committed between its read and its wait still wakes it. Wake-ups carry no data: a
woken follower reads the feed again (the table is the record; a wake-up only says "look").

Where wake-ups come from (`follow_database`, one task per process):
- this process's own writes, right after they commit (`NOTIFIER.wake`);
- PostgreSQL: one dedicated LISTEN connection per process (not one from the pool): a trigger
  on `note_changes` NOTIFYs the owner, delivered at commit, to every replica;
- when LISTEN is unavailable (behind PgBouncer in transaction mode, or while the listener
  reconnects), and always on SQLite (other processes on the same file): one shared poller per
  process reads the heads of the clients someone waits for, every POLL_INTERVAL seconds,
  only while someone waits.
On SIGTERM (`service.draining`) every waiter is woken, and no new one waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from service.draining import is_draining, on_drain

logger = logging.getLogger(__name__)

CHANNEL = "note_changes"
POLL_INTERVAL = 0.5
RECONNECT_INTERVAL = 5.0
LISTENER_CHECK_INTERVAL = 10.0

HeadsReader = Callable[[list[str]], Awaitable[dict[str, int]]]


class ChangeNotifier:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextmanager
    def subscribe(self, owner: str) -> Iterator[asyncio.Event]:
        """An event set at `owner`'s next change (or when draining begins)."""
        self._loop = asyncio.get_running_loop()
        event = asyncio.Event()
        if is_draining():
            event.set()
        self._waiters[owner].add(event)
        try:
            yield event
        finally:
            waiting = self._waiters.get(owner)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiters[owner]

    def wake(self, owner: str) -> None:
        for event in self._waiters.get(owner, ()):
            event.set()

    def wake_all(self) -> None:
        for waiting in list(self._waiters.values()):
            for event in waiting:
                event.set()

    def waiting_owners(self) -> list[str]:
        return list(self._waiters)

    def waiting_count(self) -> int:
        return sum(len(waiting) for waiting in self._waiters.values())

    def drain(self) -> None:
        """From the signal handler: wake everyone, on the loop's own thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wake_all)


NOTIFIER = ChangeNotifier()
on_drain(NOTIFIER.drain)


async def follow_database(
    database_url: str, listen_url: str | None, read_heads: HeadsReader
) -> None:
    """Feed NOTIFIER from the database until cancelled: LISTEN on PostgreSQL (`listen_url`,
    else `database_url`), else the shared poller."""
    if database_url.startswith("sqlite://"):
        await _poll(read_heads, duration=None)
        return
    url = listen_url or database_url
    while True:
        try:
            await _listen(url)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure: poll meanwhile, then connect again
            logger.warning(
                "Change feed: LISTEN unavailable (%s); polling every %.1f s meanwhile",
                type(exc).__name__,
                POLL_INTERVAL,
            )
        await _poll(read_heads, duration=RECONNECT_INTERVAL)


async def _listen(url: str) -> None:
    credentials = expand_db_url(url)["credentials"]
    connection = await asyncpg.connect(
        host=credentials["host"],
        port=credentials["port"],
        user=credentials["user"],
        password=credentials.get("password"),
        database=credentials["database"],
        timeout=5,
    )
    lost = asyncio.Event()

    def on_notify(_connection: Any, _pid: int, _channel: str, owner: str) -> None:
        NOTIFIER.wake(owner)

    try:
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, on_notify)
        logger.info("Change feed: listening for changes on a dedicated connection")
        NOTIFIER.wake_all()  # whatever committed while nobody listened
        while not connection.is_closed():
            with suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), LISTENER_CHECK_INTERVAL)
            if lost.is_set():
                raise ConnectionError("the LISTEN connection closed")
            await connection.execute("SELECT 1", timeout=5)  # a half-open socket shows here
    finally:
        with suppress(Exception):
            await asyncio.wait_for(connection.close(), 2)


async def _poll(read_heads: HeadsReader, *, duration: float | None) -> None:
    """Every POLL_INTERVAL, while someone waits: one query for the waited-for heads; wake the
    owners whose head moved (or is seen for the first time: a spare re-read is harmless)."""
    seen: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    end = None if duration is None else loop.time() + duration
    while end is None or loop.time() < end:
        await asyncio.sleep(POLL_INTERVAL)
        owners = NOTIFIER.waiting_owners()
        if not owners:
            seen.clear()
            continue
        try:
            heads = await read_heads(owners)
        except Exception:
            logger.exception("Change feed: polling the heads failed; will retry")
            continue
        for owner, last_seq in heads.items():
            if seen.get(owner) != last_seq:
                NOTIFIER.wake(owner)
            seen[owner] = last_seq
