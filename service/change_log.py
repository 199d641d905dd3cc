"""Recording changes: each note write adds its change to the feed in the write's transaction.

Why the order is exact: a sequence (or autoincrement) value is taken when a row is inserted,
not when its transaction commits, so on PostgreSQL a follower could see seq 11 committed while
seq 10 is still in flight, move its cursor past 10 and never see it. Here a client's seq is
taken by bumping its `change_heads` row (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`),
which locks that row until the write commits: the next write of the same client takes the
next seq only after this one committed, so no reader can ever see seq N+1 without seq N.
Clients stay independent (one row each), and it costs no extra round trip on PostgreSQL: the
bump and the change's insert ride in the write's own statement (a CTE). SQLite has one writer
at a time, holding its lock to commit, so there the two statements keep the same order.

Why not the other known remedy, serving only rows below `pg_snapshot_xmin`: that horizon is
the oldest transaction in flight on the whole server, so one slow write (or any long
transaction, a migration or a backup) would hold back every client's feed, and it would need
a second mechanism on SQLite. The price here: one client's writes commit one after another
from the moment they record their change (different clients never wait on each other).

A write that changes nothing never gets here; a write that fails rolls its change back with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise import BaseDBAsyncClient

from service.models import NoteChange

# PostgreSQL: the head's bump and the change's insert ride in the write's own statement.
# Each bump selects from the written row, so a write that touched no row bumps nothing.
PG_CREATE = """
    WITH note AS (
        INSERT INTO notes (owner, text, completed, created_at, updated_at, version)
        VALUES ($1, $2, $3, $4, $4, 1)
        RETURNING id, text, completed, created_at, updated_at, version
    ), bumped AS (
        INSERT INTO change_heads AS head (owner, last_seq, purged_through)
        SELECT $1::varchar, 1, 0 FROM note
        ON CONFLICT (owner) DO UPDATE SET last_seq = head.last_seq + 1 RETURNING last_seq
    ), recorded AS (
        INSERT INTO note_changes
            (owner, seq, note_id, type, version, at, text, completed, created_at, updated_at)
        SELECT $1, bumped.last_seq, note.id, 'created', note.version, note.updated_at,
            note.text, note.completed, note.created_at, note.updated_at
        FROM note, bumped
    )
    SELECT id, text, completed, created_at, updated_at, version FROM note
"""
# After the UPDATE, in its transaction: the row as written becomes the change (and the answer).
PG_RECORD_UPDATE = """
    WITH note AS (
        SELECT id, text, completed, created_at, updated_at, version
        FROM notes WHERE owner = $1 AND id = $2
    ), bumped AS (
        INSERT INTO change_heads AS head (owner, last_seq, purged_through)
        SELECT $1::varchar, 1, 0 FROM note
        ON CONFLICT (owner) DO UPDATE SET last_seq = head.last_seq + 1 RETURNING last_seq
    ), recorded AS (
        INSERT INTO note_changes
            (owner, seq, note_id, type, version, at, text, completed, created_at, updated_at)
        SELECT $1, bumped.last_seq, note.id, 'updated', note.version, note.updated_at,
            note.text, note.completed, note.created_at, note.updated_at
        FROM note, bumped
    )
    SELECT id, text, completed, created_at, updated_at, version FROM note
"""
# $4: the versions If-Match names, or NULL for any version.
PG_DELETE = """
    WITH gone AS (
        DELETE FROM notes
        WHERE owner = $1 AND id = $2 AND ($4::int[] IS NULL OR version = ANY($4::int[]))
        RETURNING id, version
    ), bumped AS (
        INSERT INTO change_heads AS head (owner, last_seq, purged_through)
        SELECT $1::varchar, 1, 0 FROM gone
        ON CONFLICT (owner) DO UPDATE SET last_seq = head.last_seq + 1 RETURNING last_seq
    ), recorded AS (
        INSERT INTO note_changes (owner, seq, note_id, type, version, at)
        SELECT $1, bumped.last_seq, gone.id, 'deleted', gone.version, $3::timestamptz
        FROM gone, bumped
    )
    SELECT count(*) AS deleted FROM gone
"""

_SQLITE_DELETE = """
    DELETE FROM notes WHERE owner = ? AND id = ?
    AND (? IS NULL OR version IN (SELECT value FROM json_each(?))) RETURNING version
"""
_SQLITE_BUMP = """
    INSERT INTO change_heads (owner, last_seq, purged_through) VALUES (?, 1, 0)
    ON CONFLICT (owner) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq
"""
_SQLITE_RECORD = """
    INSERT INTO note_changes
        (owner, seq, note_id, type, version, at, text, completed, created_at, updated_at)
    SELECT owner, ?, id, ?, version, updated_at, text, completed, created_at, updated_at
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
    seq = await _bump_sqlite(connection, owner)
    await connection.execute_query(_SQLITE_RECORD, [seq, change_type, owner, note_id])
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
    seq = await _bump_sqlite(connection, owner)
    await NoteChange.create(
        owner=owner,
        seq=seq,
        note_id=note_id,
        type="deleted",
        version=gone[0]["version"],
        at=now,
        using_db=connection,
    )
    return True


async def _bump_sqlite(connection: BaseDBAsyncClient, owner: str) -> int:
    rows = await connection.execute_query_dict(_SQLITE_BUMP, [owner])
    seq: int = rows[0]["last_seq"]
    return seq
