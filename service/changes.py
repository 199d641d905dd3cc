"""The change feed's use-cases: give committed changes their place in the feed, read a
client's changes after a cursor, wait for the next ones, and purge those past retention.
Recording them is `service.change_log`'s job.

Why the order is exact (deferred sequencing). A sequence or autoincrement value is taken
when a row is inserted, not when its transaction commits, so on PostgreSQL a follower could
see 11 committed while 10 is still in flight, move its cursor past 10 and never see it. So
writes insert their change with `seq` NULL, and a reader numbers the client's committed
changes before it reads (`sequence`), in one transaction: it locks the client's
`change_heads` row, then, in a new statement (under READ COMMITTED a new snapshot, taken
after the lock was granted, so it sees every number the previous sequencer committed),
gives the client's unnumbered committed changes `last_seq + 1, + 2, ...` in id order and
raises `last_seq`; then it commits.
- A change gets a seq only after its write committed: the sequencer cannot see it before.
- A client's sequencers run one at a time (the head's row lock), and each commits its batch
  before the next starts, so the numbered changes are always a prefix of the feed, numbered
  1, 2, 3... with no gaps, and no reader can see seq N+1 without seq N: a change committed
  late (after a later-inserted one was numbered and read) simply gets the next number.
- Per note, versions stay in order: the note's row lock makes write v2 insert its change
  after write v1 committed, so v1's change has the lower id, and a sequencer that sees v2's
  sees v1's too (committed earlier): v1 is numbered first, or in an earlier batch.
Writers take no new lock and notify nobody, so they never wait on each other for the feed;
only a client's readers queue for its head, and only when something is unnumbered (a
partial index finds that cheaply). The same code runs on SQLite, where the single writer
makes it trivially correct.

Why not serving only rows below `pg_snapshot_xmin`: that horizon is the oldest transaction
in flight on the whole server, so one slow write (or a migration, a backup) would hold back
every client's feed, and SQLite would need a second mechanism."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from tortoise import BaseDBAsyncClient, connections
from tortoise.transactions import in_transaction

from service.change_notifier import NOTIFIER
from service.draining import is_draining
from service.errors import CursorExpired
from service.models import ChangeHead, NoteChange
from service.periodic import purge_every
from service.schemas import NoteRead

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 1_000
SEQ_MAX = 2**63 - 1
SEQUENCE_BATCH_SIZE = 1_000  # at least the largest page, so one pass fills any page

# Statement 1: lock the client's head (creating it if need be); its last_seq.
_LOCK_HEAD = {
    "postgres": """
        INSERT INTO change_heads AS head (owner, last_seq, purged_through) VALUES ($1, 0, 0)
        ON CONFLICT (owner) DO UPDATE SET last_seq = head.last_seq RETURNING last_seq
    """,
    "sqlite": """
        INSERT INTO change_heads (owner, last_seq, purged_through) VALUES (?, 0, 0)
        ON CONFLICT (owner) DO UPDATE SET last_seq = last_seq RETURNING last_seq
    """,
}
# Statement 2, never in the same statement as 1 (a statement's snapshot predates its lock
# wait): number the unnumbered committed changes in id order after last_seq, raise last_seq.
_PG_NUMBER = """
    WITH batch AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n FROM note_changes
        WHERE owner = $1 AND seq IS NULL ORDER BY id LIMIT $3
    ), numbered AS (
        UPDATE note_changes AS change SET seq = $2 + batch.n
        FROM batch WHERE change.id = batch.id RETURNING 1
    )
    UPDATE change_heads SET last_seq = $2 + (SELECT count(*) FROM numbered) WHERE owner = $1
"""
_SQLITE_NUMBER = """
    WITH batch AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n FROM note_changes
        WHERE owner = ? AND seq IS NULL ORDER BY id LIMIT ?
    )
    UPDATE note_changes SET seq = ? + batch.n FROM batch WHERE note_changes.id = batch.id
"""
_SQLITE_RAISE_HEAD = """
    UPDATE change_heads
    SET last_seq = max(last_seq, coalesce((SELECT max(seq) FROM note_changes WHERE owner = ?), 0))
    WHERE owner = ?
"""
_PENDING = {
    "postgres": "SELECT 1 FROM note_changes WHERE owner = $1 AND seq IS NULL LIMIT 1",
    "sqlite": "SELECT 1 FROM note_changes WHERE owner = ? AND seq IS NULL LIMIT 1",
}
# The shared poller: per waited-for client, its last seq and whether anything is unnumbered.
_PG_SIGNALS = """
    SELECT o AS owner, coalesce(head.last_seq, 0) AS last_seq,
        EXISTS (SELECT 1 FROM note_changes WHERE owner = o AND seq IS NULL) AS pending
    FROM unnest($1::varchar[]) AS o LEFT JOIN change_heads AS head ON head.owner = o
"""
_SQLITE_SIGNALS = """
    SELECT o.value AS owner, coalesce(head.last_seq, 0) AS last_seq,
        EXISTS (SELECT 1 FROM note_changes WHERE owner = o.value AND seq IS NULL) AS pending
    FROM json_each(?) AS o LEFT JOIN change_heads AS head ON head.owner = o.value
"""

_NOTE_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "text": "Buy milk",
    "completed": True,
    "created_at": "2026-12-02T09:58:00.000000Z",
    "updated_at": "2026-12-02T10:00:00.123456Z",
    "version": 3,
}


class ChangeRead(BaseModel):
    """One change of the feed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seq": 41,
                    "type": "updated",
                    "note_id": 7,
                    "version": 3,
                    "at": "2026-12-02T10:00:00.123456Z",
                    "note": _NOTE_EXAMPLE,
                }
            ]
        }
    )

    seq: int = Field(description="Strictly increasing along the feed; the next `after`.")
    type: Literal["created", "updated", "deleted"]
    note_id: int
    version: int = Field(description="The note's version after the change (deleted: before).")
    at: datetime = Field(description="When the change was made (UTC).")
    note: NoteRead | None = Field(
        description="The note right after the change; `null` for `deleted`."
    )


CHANGES = TypeAdapter(list[ChangeRead])

_COLUMNS = (
    "seq",
    "type",
    "note_id",
    "version",
    "at",
    "text",
    "completed",
    "created_at",
    "updated_at",
)


async def sequence(owner: str) -> None:
    """Number `owner`'s committed, unnumbered changes (at most SEQUENCE_BATCH_SIZE), after the
    ones already numbered; nothing at all when none wait (the usual case)."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    if not await db.execute_query_dict(_PENDING[dialect], [owner]):
        return
    async with in_transaction() as connection:
        head = await connection.execute_query_dict(_LOCK_HEAD[dialect], [owner])
        last_seq: int = head[0]["last_seq"]
        await _number(connection, dialect, owner, last_seq)


async def _number(connection: BaseDBAsyncClient, dialect: str, owner: str, last_seq: int) -> None:
    if dialect == "postgres":
        await connection.execute_query(_PG_NUMBER, [owner, last_seq, SEQUENCE_BATCH_SIZE])
        return
    await connection.execute_query(_SQLITE_NUMBER, [owner, SEQUENCE_BATCH_SIZE, last_seq])
    await connection.execute_query(_SQLITE_RAISE_HEAD, [owner, owner])


async def read_changes(owner: str, after: int, limit: int) -> list[ChangeRead]:
    """`owner`'s changes after the cursor `after`, oldest first, at most `limit`; numbers the
    committed ones first (`sequence`).

    The head is read after the rows: the purge deletes rows and raises `purged_through` in
    one transaction, so a row missing from this read shows up as an expired cursor below."""
    await sequence(owner)
    rows = await (
        NoteChange.filter(owner=owner, seq__gt=after).order_by("seq").limit(limit).values(*_COLUMNS)
    )
    if after > 0:
        head = await ChangeHead.filter(owner=owner).values("last_seq", "purged_through")
        if head and after < head[0]["purged_through"]:
            raise CursorExpired(after=after, resync_after=head[0]["last_seq"])
    return [_change(row) for row in rows]


def _change(row: dict[str, Any]) -> ChangeRead:
    note = None
    if row["type"] != "deleted":
        note = NoteRead(
            id=row["note_id"],
            text=row["text"],
            completed=bool(row["completed"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            version=row["version"],
        )
    return ChangeRead(
        seq=row["seq"],
        type=row["type"],
        note_id=row["note_id"],
        version=row["version"],
        at=row["at"],
        note=note,
    )


async def wait_for_changes(owner: str, after: int, limit: int, wait: float) -> list[ChangeRead]:
    """Like `read_changes`, but when nothing follows `after`, wait up to `wait` seconds for a
    change (answering at once when the process starts draining)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    with NOTIFIER.subscribe(owner) as woken:
        while True:
            woken.clear()
            changes = await read_changes(owner, after, limit)
            remaining = deadline - loop.time()
            if changes or remaining <= 0 or is_draining():
                return changes
            with suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), remaining)


async def read_signals(owners: list[str]) -> dict[str, tuple[int, bool]]:
    """For the shared poller, in one query: each client's last seq, and whether it has
    unnumbered changes (committed, so new to everyone until a reader numbers them)."""
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        rows = await db.execute_query_dict(_PG_SIGNALS, [owners])
    else:
        rows = await db.execute_query_dict(_SQLITE_SIGNALS, [json.dumps(owners)])
    return {row["owner"]: (row["last_seq"], bool(row["pending"])) for row in rows}


async def purge_expired(retention: timedelta) -> int:
    """Delete numbered changes older than `retention`, in small batches so no request waits
    on a big delete, and raise each client's `purged_through`; returns how many were deleted.
    Expired changes no reader has numbered yet are numbered first, so a client nobody follows
    does not keep its changes forever, and a cursor from before them still gets its 410."""
    cutoff = datetime.now(UTC) - retention
    await _number_expired(cutoff)
    purged = 0
    while True:
        async with in_transaction() as connection:
            rows = await (
                NoteChange.filter(at__lt=cutoff, seq__isnull=False)
                .order_by("at")
                .limit(PURGE_BATCH_SIZE)
                .using_db(connection)
                .values("id", "owner", "seq")
            )
            if rows:
                highest: dict[str, int] = {}
                for row in rows:
                    highest[row["owner"]] = max(highest.get(row["owner"], 0), row["seq"])
                purged += (
                    await NoteChange.filter(id__in=[row["id"] for row in rows])
                    .using_db(connection)
                    .delete()
                )
                for owner, seq in sorted(highest.items()):  # one lock order
                    await (
                        ChangeHead.filter(owner=owner, purged_through__lt=seq)
                        .using_db(connection)
                        .update(purged_through=seq)
                    )
        if len(rows) < PURGE_BATCH_SIZE:
            return purged


async def _number_expired(cutoff: datetime) -> None:
    expired = NoteChange.filter(at__lt=cutoff, seq__isnull=True)
    for owner in await expired.distinct().values_list("owner", flat=True):
        while await expired.filter(owner=owner).exists():  # a batch per pass, oldest first
            await sequence(str(owner))


async def purge_periodically(retention: timedelta, interval: float) -> None:
    """Run `purge_expired` every `interval` seconds until cancelled."""
    await purge_every(interval, lambda: purge_expired(retention), "expired changes")
