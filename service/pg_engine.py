"""The PostgreSQL engine Tortoise loads (`"engine": "service.pg_engine"`): its asyncpg client,
with a bound on how long a request waits for a pooled connection.

Tortoise and asyncpg wait for a free connection without limit; when every connection is
busy (a slow database, more load than `DB_POOL_MAX_SIZE`), requests would queue unseen
until the caller's own timeout. With `DB_POOL_ACQUIRE_TIMEOUT` the wait ends in a
TimeoutError, which the service answers with 503 and `Retry-After`.
"""

from __future__ import annotations

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
        super().__init__(*args, **kwargs)

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)


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
