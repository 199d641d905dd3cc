"""Waking the followers that wait for a client's next change, in this process.

A long poll or a stream subscribes to its client's wake-ups *before* it reads the feed, so a
change committed between its read and its wait still wakes it. Wake-ups carry no data: a
woken follower reads the feed again (the table is the record; a wake-up only says "look").

Where wake-ups come from (`follow_database`, one task per process):
- this process's own writes, right after they commit (`NOTIFIER.wake`);
- other processes' writes (other replicas): one shared poller per process, running only while
  someone waits, every `CHANGES_POLL_INTERVAL_SECONDS`: one query for all the clients this
  process's followers wait for, waking those whose last seq moved or who have changes not yet
  numbered. No LISTEN connection and no NOTIFY (PostgreSQL's NOTIFY serialises every
  notifying commit on a database-wide lock), so it works the same behind PgBouncer in
  transaction mode, and on SQLite.
On SIGTERM (`service.draining`) every waiter is woken, and no new one waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from service.draining import is_draining, on_drain

logger = logging.getLogger(__name__)

# Per client: (its last seq, whether it has unnumbered changes).
SignalsReader = Callable[[list[str]], Awaitable[dict[str, tuple[int, bool]]]]


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


async def follow_database(read_signals: SignalsReader, interval: float) -> None:
    """The shared poller, until cancelled: every `interval` seconds, while someone waits, one
    query for the clients waited for; wake those whose last seq moved (or first seen: a spare
    re-read is harmless) or who have unnumbered changes (their follower's read numbers them)."""
    seen: dict[str, int] = {}
    while True:
        await asyncio.sleep(interval)
        owners = NOTIFIER.waiting_owners()
        if not owners:
            seen.clear()
            continue
        try:
            signals = await read_signals(owners)
        except Exception:
            logger.exception("Change feed: polling for changes failed; will retry")
            continue
        for owner, (last_seq, pending) in signals.items():
            if pending or seen.get(owner) != last_seq:
                NOTIFIER.wake(owner)
            seen[owner] = last_seq
