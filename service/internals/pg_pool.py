"""The PostgreSQL engine Tortoise loads (`"engine": "service.internals.pg_pool"`): its asyncpg
client, with a bound on how long a request waits for a pooled connection, and a fair wait.

Tortoise and asyncpg wait for a free connection without limit; when every connection is
busy (a slow database, more load than `DB_POOL_MAX_SIZE`), requests would queue unseen
until the caller's own timeout. With `DB_POOL_ACQUIRE_TIMEOUT` the wait ends in a
TimeoutError, which the service answers with 503 and `Retry-After`.

asyncpg's pool hands connections out through an `asyncio.Queue`, which is not first come,
first served: a request arriving just as a connection comes back takes it ahead of the
woken waiter, which goes to the back of the line. Under saturation a few unlucky requests
wait many times over: a long tail of latency (docs/performance.md). A FIFO semaphore with
one permit per connection (asyncio's is fair: a newcomer queues behind every waiter) now
decides the order; the pool's own queue then always has a connection ready.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient

_CREATE_POOL_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(asyncpg.create_pool).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}


class BoundedWaitPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg ships no types
    def __init__(self, *args: Any, acquire_timeout: float | None, **kwargs: Any) -> None:
        self._acquire_timeout = acquire_timeout
        self._turns = asyncio.Semaphore(kwargs["max_size"])
        super().__init__(*args, **kwargs)

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109  (asyncpg's)
        # asyncpg's own step (called by `acquire()`), behind our turn.
        if self._turns.locked():
            async with asyncio.timeout(timeout):
                await self._turns.acquire()
        else:
            await self._turns.acquire()  # a free turn: taken at once
        try:
            # Past the turn a connection is free: no timeout needed (nor its cost). Release
            # never waits either: the pool's reset is `keep_session_state` (service.db).
            return await super()._acquire(None)
        except BaseException:
            self._turns.release()
            raise

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            await super().release(connection, timeout=timeout)
        finally:
            self._turns.release()


class BoundedWaitClient(AsyncpgDBClient):
    def __init__(self, *, acquire_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = acquire_timeout

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        # What asyncpg.create_pool does (with its defaults for what is not given), with our
        # pool class.
        options = {**_CREATE_POOL_DEFAULTS, **kwargs}
        return await BoundedWaitPool(None, acquire_timeout=self.acquire_timeout, **options)


client_class = BoundedWaitClient
