"""The change feed's use-cases: read a client's changes after a cursor, wait for the next
ones, and purge those past retention. Recording them is `service.change_log`'s job."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from tortoise.transactions import in_transaction

from service.change_notifier import NOTIFIER
from service.draining import is_draining
from service.errors import CursorExpired
from service.models import ChangeHead, NoteChange
from service.schemas import NoteRead

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 1_000
SEQ_MAX = 2**63 - 1

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


async def read_changes(owner: str, after: int, limit: int) -> list[ChangeRead]:
    """`owner`'s changes after the cursor `after`, oldest first, at most `limit`.

    The head is read after the rows: the purge deletes rows and raises `purged_through` in
    one transaction, so a row missing from this read shows up as an expired cursor below."""
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


async def read_heads(owners: list[str]) -> dict[str, int]:
    """The last seq of each of these clients (for the shared poller)."""
    rows = await ChangeHead.filter(owner__in=owners).values("owner", "last_seq")
    return {row["owner"]: row["last_seq"] for row in rows}


async def purge_expired(retention: timedelta) -> int:
    """Delete changes older than `retention`, in small batches so no request waits on a big
    delete, and raise each client's `purged_through`; returns how many were deleted."""
    cutoff = datetime.now(UTC) - retention
    purged = 0
    while True:
        async with in_transaction() as connection:
            rows = await (
                NoteChange.filter(at__lt=cutoff)
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


async def purge_periodically(retention: timedelta, interval: float) -> None:
    """Run `purge_expired` every `interval` seconds until cancelled; a failed pass is logged
    and tried again at the next one."""
    while True:
        try:
            purged = await purge_expired(retention)
        except Exception:
            logger.exception("Purging expired changes failed; will retry")
        else:
            if purged:
                logger.info("Purged %d expired changes", purged)
        await asyncio.sleep(interval)
