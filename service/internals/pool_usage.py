"""How busy the database connections are, read from Tortoise's client for the metrics.

Tortoise offers no public handle on its pool: this reads the clients' private attributes
(`_pool` of the asyncpg client, `_connection` and `_lock` of the SQLite one), pinned by
tests/internals/test_pool_usage.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PoolUsage:
    in_use: int
    size: int  # connections open now
    max_size: int


def pool_usage() -> PoolUsage | None:
    """How many of the database connections are busy; None before Tortoise is set up.

    PostgreSQL: asyncpg's pool. SQLite: the one connection, busy while a query holds it.
    """
    from tortoise import connections
    from tortoise.exceptions import ConfigurationError

    try:
        client = connections.get("default")
    except (ConfigurationError, KeyError, RuntimeError):  # RuntimeError: no Tortoise context
        return None
    pool = getattr(client, "_pool", None)  # Tortoise offers no public handle on its pool
    if pool is not None:
        size, idle = pool.get_size(), pool.get_idle_size()
        return PoolUsage(in_use=size - idle, size=size, max_size=pool.get_max_size())
    lock = getattr(client, "_lock", None)
    if getattr(client, "_connection", None) is None:
        return PoolUsage(in_use=0, size=0, max_size=1)
    return PoolUsage(in_use=int(lock is not None and lock.locked()), size=1, max_size=1)
