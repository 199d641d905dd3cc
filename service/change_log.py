"""Recording changes: each note write adds its change to the feed in the write's transaction.

A write only inserts its change row, with `seq` NULL, in its own statement (PostgreSQL) or
transaction (SQLite): writers take no lock beyond the note's own and notify nobody, so they
never wait on each other for the feed. The row gets its place in the feed (`seq`) later,
from a reader, once the write has committed: `service.changes.sequence` explains why that
order is exact. A write that changes nothing never gets here; a write that fails rolls its
change back with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise import BaseDBAsyncClient

from service.models import NoteChange

# PostgreSQL: the change's insert rides in the write's own statement; it selects from the
# written row, so a write that touched no row records nothing.
PG_CREATE = """
    WITH note AS (
        INSERT INTO notes (owner, text, completed, created_at, updated_at, version)
        VALUES ($1, $2, $3, $4, $4, 1)
        RETURNING id, text, completed, created_at, updated_at, version
    ), recorded AS (
        INSERT INTO note_changes
            (owner, note_id, type, version, at, text, completed, created_at, updated_at)
        SELECT $1, note.id, 'created', note.version, note.updated_at,
            note.text, note.completed, note.created_at, note.updated_at
        FROM note
    )
    SELECT id, text, completed, created_at, updated_at, version FROM note
"""
# After the UPDATE, in its transaction: the row as written becomes the change (and the answer).
PG_RECORD_UPDATE = """
    WITH note AS (
        SELECT id, text, completed, created_at, updated_at, version
        FROM notes WHERE owner = $1 AND id = $2
    ), recorded AS (
        INSERT INTO note_changes
            (owner, note_id, type, version, at, text, completed, created_at, updated_at)
        SELECT $1, note.id, 'updated', note.version, note.updated_at,
            note.text, note.completed, note.created_at, note.updated_at
        FROM note
    )
    SELECT id, text, completed, created_at, updated_at, version FROM note
"""
# $4: the versions If-Match names, or NULL for any version.
PG_DELETE = """
    WITH gone AS (
        DELETE FROM notes
        WHERE owner = $1 AND id = $2 AND ($4::int[] IS NULL OR version = ANY($4::int[]))
        RETURNING id, version
    ), recorded AS (
        INSERT INTO note_changes (owner, note_id, type, version, at)
        SELECT $1, gone.id, 'deleted', gone.version, $3::timestamptz FROM gone
    )
    SELECT count(*) AS deleted FROM gone
"""

_SQLITE_DELETE = """
    DELETE FROM notes WHERE owner = ? AND id = ?
    AND (? IS NULL OR version IN (SELECT value FROM json_each(?))) RETURNING version
"""
_SQLITE_RECORD = """
    INSERT INTO note_changes
        (owner, note_id, type, version, at, text, completed, created_at, updated_at)
    SELECT owner, id, ?, version, updated_at, text, completed, created_at, updated_at
    FROM notes WHERE owner = ? AND id = ?
"""


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


async def create_note_recorded(
    connection: BaseDBAsyncClient, owner: str, fields: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """PostgreSQL: insert the note and its `created` change in one statement; the note's row."""
    rows = await connection.execute_query_dict(
        PG_CREATE, [owner, fields["text"], fields.get("completed", False), now]
    )
    row: dict[str, Any] = rows[0]
    return row


async def record_written(
    connection: BaseDBAsyncClient, owner: str, note_id: int, change_type: str
) -> dict[str, Any] | None:
    """Record the note's row as this transaction wrote it; on PostgreSQL also return the row
    (the answer, with no extra round trip). In the write's transaction."""
    if is_postgres(connection):
        rows = await connection.execute_query_dict(PG_RECORD_UPDATE, [owner, note_id])
        return rows[0]
    await connection.execute_query(_SQLITE_RECORD, [change_type, owner, note_id])
    return None


async def delete_recorded(
    connection: BaseDBAsyncClient,
    owner: str,
    note_id: int,
    versions: Sequence[int] | None,
    now: datetime,
) -> bool:
    """Delete the note (only at one of `versions`, if given) and record its `deleted` change;
    whether it was deleted. On SQLite, call it in a transaction."""
    if is_postgres(connection):
        listed = None if versions is None else list(versions)
        rows = await connection.execute_query_dict(PG_DELETE, [owner, note_id, now, listed])
        return bool(rows[0]["deleted"])
    as_json = None if versions is None else json.dumps(list(versions))
    gone = await connection.execute_query_dict(_SQLITE_DELETE, [owner, note_id, as_json, as_json])
    if not gone:
        return False
    await NoteChange.create(
        owner=owner,
        note_id=note_id,
        type="deleted",
        version=gone[0]["version"],
        at=now,
        using_db=connection,
    )
    return True
