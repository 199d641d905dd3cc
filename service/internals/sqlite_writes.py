"""The SQLite engine Tortoise loads (`"engine": "service.internals.sqlite_writes"`): its
client, with transactions that take the write lock when they begin (`BEGIN IMMEDIATE`).

Tortoise begins a SQLite transaction with a plain, deferred `BEGIN`, so the write lock is
taken by the transaction's first write. When another connection holds it (another process,
a backup, the `sqlite3` shell), that upgrade can fail at once with "database is locked"
instead of waiting the busy timeout: SQLite will not wait to upgrade a transaction that has
already begun. Every transaction the service opens writes (a note and its change, an
idempotent create, the feed's numbering), so taking the lock at `BEGIN` costs nothing and
lets a write wait its turn, as a single autocommit statement always did.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()  # as Tortoise does: end any implicit transaction
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateTransactionClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateTransactionClient
