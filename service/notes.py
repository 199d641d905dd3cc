"""Note use-cases: the only module that queries notes (searches through `service.search`).

Writes are atomic compare-and-set operations: the version check, the change detection and
the write are one UPDATE (or DELETE) statement, so concurrent writers can never both win.
Every write that changes a note records its change for the feed in the same transaction
(`service.change_log`), then wakes this process's followers (`service.change_notifier`).

Reads select only the columns a response shows and validate the rows straight into
`NoteRead` (pages: into rows of its fields), with no ORM model instances in between; the hot
ones run SQL that Tortoise generated once per query shape (`service.internals.prepared`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from tortoise import BaseDBAsyncClient, connections
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet, ValuesQuery
from tortoise.transactions import in_transaction

from service import change_log, search
from service.change_notifier import NOTIFIER
from service.errors import NoteNotFound, PreconditionFailed, PreconditionRequired
from service.internals.prepared import PreparedInsert, PreparedQuery
from service.models import ID_MAX, Note
from service.schemas import NOTE_ROW, NOTE_ROWS, NoteRead
from service.search import SearchLimits
from service.search_syntax import WebSearch

READ_FIELDS = tuple(NoteRead.model_fields)
# Stand-ins for the values of prepared queries: distinct from each other and from constants.
_SAMPLES: dict[str, object] = {
    "owner": "\x1fsample owner",
    "note_id": ID_MAX - 1,
    "after": ID_MAX - 2,
    "limit": ID_MAX - 3,
    "completed": True,
}


@dataclass(frozen=True)
class IfMatch:
    """A parsed If-Match precondition: `*` (any existing note) or a set of versions."""

    versions: frozenset[int] = frozenset()
    any_version: bool = False

    def matches(self, version: int) -> bool:
        return self.any_version or version in self.versions


@dataclass(frozen=True)
class WriteCondition:
    """What a write must satisfy: the caller's If-Match, and whether one is required."""

    if_match: IfMatch | None = None
    required: bool = False


@dataclass(frozen=True)
class NoteQuery:
    limit: int = 100
    after: int | None = None
    descending: bool = False
    completed: bool | None = None
    search: str = ""  # `q`: a substring
    words: WebSearch | None = None  # `search`: web-search syntax, parsed
    by_relevance: bool = False
    after_rank: float | None = None


@dataclass(frozen=True)
class NotePage:
    notes: list[dict[str, Any]]  # validated by NOTE_ROWS: NoteRead's fields
    has_more: bool
    last_rank: float | None = None  # ordered by relevance: the cursor's other half


_DEFAULT_LIMITS = SearchLimits()
_INSERT_NOTE = PreparedInsert(Note, connection="default")


async def create_note(
    owner: str, fields: Mapping[str, Any], *, connection: BaseDBAsyncClient | None = None
) -> NoteRead:
    """Insert a note and its `created` change; pass `connection` to make both part of the
    caller's transaction (the caller then wakes the followers once it has committed)."""
    return NoteRead.model_validate(await create_note_row(owner, fields, connection=connection))


async def create_note_row(
    owner: str, fields: Mapping[str, Any], *, connection: BaseDBAsyncClient | None = None
) -> dict[str, Any]:
    """`create_note`, answering the note as a row validated by `NOTE_ROW` (`NoteRead`'s fields,
    no model instance): what the route serializes, in one pass, with `NOTE_ROW.dump_json`."""
    now = datetime.now(UTC)  # a new note's two timestamps are equal
    db = connection or connections.get("default")
    if change_log.is_postgres(db):
        row = await change_log.create_note_recorded(db, owner, fields, now)
    elif connection is not None:
        row = await _insert_recorded(connection, owner, fields, now)
    else:
        async with in_transaction() as transaction:
            row = await _insert_recorded(transaction, owner, fields, now)
    if connection is None:
        NOTIFIER.wake(owner)
    return NOTE_ROW.validate_python(row)


async def _insert_recorded(
    connection: BaseDBAsyncClient, owner: str, fields: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    values = {**fields, "owner": owner, "created_at": now, "updated_at": now}
    row = await _INSERT_NOTE.insert(values, using=connection)
    await change_log.record_written(connection, owner, row["id"], "created")
    return row


_GET_NOTE = PreparedQuery(
    lambda owner, note_id: _owned(owner).filter(id=note_id).limit(1).values(*READ_FIELDS),
    connection="default",
    owner=_SAMPLES["owner"],
    note_id=_SAMPLES["note_id"],
)


async def get_note(owner: str, note_id: int) -> NoteRead:
    rows = await _GET_NOTE.fetch(owner=owner, note_id=note_id)
    if not rows:
        raise NoteNotFound(note_id)
    return NoteRead.model_validate(rows[0])


async def list_notes(
    owner: str, query: NoteQuery, limits: SearchLimits = _DEFAULT_LIMITS
) -> NotePage:
    # One row more than asked for tells whether a next page exists, without a COUNT.
    if query.search or query.words is not None:
        return await _search_notes(owner, query, limits)
    values: dict[str, Any] = {"owner": owner, "limit": query.limit + 1}
    if query.completed is not None:
        values["completed"] = query.completed
    if query.after is not None:
        values["after"] = query.after
    prepared = _prepared_listing(query.descending, frozenset(values))
    rows = await prepared.fetch(**values)
    notes = NOTE_ROWS.validate_python(rows)
    return NotePage(notes=notes[: query.limit], has_more=len(notes) > query.limit)


async def _search_notes(owner: str, query: NoteQuery, limits: SearchLimits) -> NotePage:
    """Searches run SQL of their own (service.search), served by the search indexes."""
    rows = await search.fetch(
        search.SearchQuery(
            owner=owner,
            limit=query.limit + 1,
            substring=query.search,
            words=query.words,
            by_relevance=query.by_relevance,
            descending=query.descending,
            completed=query.completed,
            after=query.after,
            after_rank=query.after_rank,
        ),
        limits,
    )
    page = rows[: query.limit]
    last_rank = float(page[-1]["rank"]) if query.by_relevance and page else None
    notes = NOTE_ROWS.validate_python([{name: row[name] for name in READ_FIELDS} for row in page])
    return NotePage(notes=notes, has_more=len(rows) > query.limit, last_rank=last_rank)


def _listing(
    *,
    descending: bool,
    owner: str,
    limit: int,
    completed: bool | None = None,
    after: int | None = None,
) -> ValuesQuery[Any]:
    notes = _owned(owner)
    if completed is not None:
        notes = notes.filter(completed=completed)
    if after is not None:
        notes = notes.filter(id__lt=after) if descending else notes.filter(id__gt=after)
    return notes.order_by("-id" if descending else "id").limit(limit).values(*READ_FIELDS)


@cache
def _prepared_listing(descending: bool, names: frozenset[str]) -> PreparedQuery:
    """One prepared query per shape: order, and which of the filters are given (8 at most)."""
    return PreparedQuery(
        lambda **values: _listing(descending=descending, **values),
        connection="default",
        **{name: _SAMPLES[name] for name in names},
    )


async def update_note(
    owner: str, note_id: int, changes: Mapping[str, Any], condition: WriteCondition
) -> NoteRead:
    """Apply `changes` if `condition` holds; a write that changes nothing keeps the version."""
    await _check_required(owner, note_id, condition)
    while True:
        if changes:
            differs = Q(*(~Q(**{name: value}) for name, value in changes.items()), join_type="OR")
            async with in_transaction() as connection:
                updated = await (
                    _matching(owner, note_id, condition)
                    .filter(differs)
                    .using_db(connection)
                    .update(**changes, version=F("version") + 1, updated_at=datetime.now(UTC))
                )
                written = await _record_update(connection, owner, note_id) if updated else None
            if written is not None:
                NOTIFIER.wake(owner)
                return written
        note = await _current_or_raise(owner, note_id, condition)
        if all(getattr(note, name) == value for name, value in changes.items()):
            return note
        # Someone changed the note between the two statements: decide again on the new state.


async def _record_update(connection: BaseDBAsyncClient, owner: str, note_id: int) -> NoteRead:
    # Same transaction: the row is still ours, so this is the version we wrote.
    row = await change_log.record_written(connection, owner, note_id, "updated")
    if row is None:
        row = (await _owned(owner).filter(id=note_id).using_db(connection).values(*READ_FIELDS))[0]
    return NoteRead.model_validate({name: row[name] for name in READ_FIELDS})


async def delete_note(owner: str, note_id: int, condition: WriteCondition) -> None:
    await _check_required(owner, note_id, condition)
    if_match = condition.if_match
    versions = None if if_match is None or if_match.any_version else sorted(if_match.versions)
    while True:
        now = datetime.now(UTC)
        db = connections.get("default")
        if change_log.is_postgres(db):  # one statement: the delete and its change
            deleted = await change_log.delete_recorded(db, owner, note_id, versions, now)
        else:
            async with in_transaction() as connection:
                deleted = await change_log.delete_recorded(
                    connection, owner, note_id, versions, now
                )
        if deleted:
            NOTIFIER.wake(owner)
            return
        await _current_or_raise(owner, note_id, condition)


def _owned(owner: str) -> QuerySet[Note]:
    """Every query starts here: a client sees only its own notes (others' are a 404)."""
    return Note.filter(owner=owner)


async def _check_required(owner: str, note_id: int, condition: WriteCondition) -> None:
    if condition.required and condition.if_match is None:
        await get_note(owner, note_id)  # a missing note is a 404 before it is a 428
        raise PreconditionRequired


def _matching(owner: str, note_id: int, condition: WriteCondition) -> QuerySet[Note]:
    notes = _owned(owner).filter(id=note_id)
    if condition.if_match is not None and not condition.if_match.any_version:
        notes = notes.filter(version__in=sorted(condition.if_match.versions))
    return notes


async def _current_or_raise(owner: str, note_id: int, condition: WriteCondition) -> NoteRead:
    note = await get_note(owner, note_id)
    if condition.if_match is not None and not condition.if_match.matches(note.version):
        raise PreconditionFailed
    return note
