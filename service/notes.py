"""Note use-cases: the only module that queries notes.

Writes are atomic compare-and-set operations: the version check, the change detection and
the write are one UPDATE (or DELETE) statement, so concurrent writers can never both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from service.errors import NoteNotFound, PreconditionFailed, PreconditionRequired
from service.models import Note


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


UNCONDITIONAL = WriteCondition()


@dataclass(frozen=True)
class NoteQuery:
    limit: int = 100
    after: int | None = None
    descending: bool = False
    completed: bool | None = None
    search: str = ""


@dataclass(frozen=True)
class NotePage:
    notes: list[Note]
    has_more: bool


async def create_note(
    owner: str, fields: Mapping[str, Any], *, connection: BaseDBAsyncClient | None = None
) -> Note:
    """Insert a note; pass `connection` to make it part of the caller's transaction."""
    now = datetime.now(UTC)
    return await Note.create(
        **fields, owner=owner, created_at=now, updated_at=now, using_db=connection
    )


async def get_note(owner: str, note_id: int) -> Note:
    note = await _owned(owner).get_or_none(id=note_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


async def list_notes(owner: str, query: NoteQuery) -> NotePage:
    notes = _owned(owner)
    if query.completed is not None:
        notes = notes.filter(completed=query.completed)
    if query.search:
        notes = notes.filter(text__icontains=query.search)
    if query.after is not None:
        notes = (
            notes.filter(id__lt=query.after)
            if query.descending
            else notes.filter(id__gt=query.after)
        )
    # One row more than asked for tells whether a next page exists, without a COUNT.
    rows = await notes.order_by("-id" if query.descending else "id").limit(query.limit + 1)
    return NotePage(notes=rows[: query.limit], has_more=len(rows) > query.limit)


async def update_note(
    owner: str, note_id: int, changes: Mapping[str, Any], condition: WriteCondition
) -> Note:
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
                if updated:
                    # Same transaction: the row is still ours, so this is the version we wrote.
                    return await _owned(owner).filter(id=note_id).using_db(connection).get()
        note = await _current_or_raise(owner, note_id, condition)
        if all(getattr(note, name) == value for name, value in changes.items()):
            return note
        # Someone changed the note between the two statements: decide again on the new state.


async def delete_note(owner: str, note_id: int, condition: WriteCondition) -> None:
    await _check_required(owner, note_id, condition)
    while True:
        if await _matching(owner, note_id, condition).delete():
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


async def _current_or_raise(owner: str, note_id: int, condition: WriteCondition) -> Note:
    note = await get_note(owner, note_id)
    if condition.if_match is not None and not condition.if_match.matches(note.version):
        raise PreconditionFailed
    return note
