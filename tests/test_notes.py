"""The note use-cases, called directly (the routes' own tests are in tests/api/routes/)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from service import notes
from service.errors import NoteNotFound, PreconditionFailed, PreconditionRequired
from service.notes import IfMatch, NoteQuery, WriteCondition

UNCONDITIONAL = WriteCondition()


async def test_a_created_note_reads_back_as_created(app: FastAPI) -> None:
    created = await notes.create_note("alpha", {"text": "Buy milk", "completed": False})

    assert created.version == 1
    assert created.created_at == created.updated_at
    assert await notes.get_note("alpha", created.id) == created


async def test_a_note_is_its_owners_only(app: FastAPI) -> None:
    created = await notes.create_note("alpha", {"text": "mine", "completed": False})

    with pytest.raises(NoteNotFound):
        await notes.get_note("beta", created.id)
    with pytest.raises(NoteNotFound):
        await notes.update_note("beta", created.id, {"text": "theirs"}, UNCONDITIONAL)
    with pytest.raises(NoteNotFound):
        await notes.delete_note("beta", created.id, UNCONDITIONAL)
    assert (await notes.list_notes("beta", NoteQuery())).notes == []
    assert await notes.get_note("alpha", created.id) == created


async def test_a_write_that_changes_nothing_keeps_the_version(app: FastAPI) -> None:
    created = await notes.create_note("alpha", {"text": "same", "completed": False})

    unchanged = await notes.update_note("alpha", created.id, {"text": "same"}, UNCONDITIONAL)
    changed = await notes.update_note("alpha", created.id, {"completed": True}, UNCONDITIONAL)

    assert unchanged == created
    assert (changed.version, changed.completed) == (2, True)


async def test_a_stale_version_changes_nothing(app: FastAPI) -> None:
    created = await notes.create_note("alpha", {"text": "v1", "completed": False})
    await notes.update_note("alpha", created.id, {"text": "v2"}, UNCONDITIONAL)
    stale = WriteCondition(if_match=IfMatch(versions=frozenset({1})))

    with pytest.raises(PreconditionFailed):
        await notes.update_note("alpha", created.id, {"text": "lost"}, stale)
    with pytest.raises(PreconditionFailed):
        await notes.delete_note("alpha", created.id, stale)
    current = await notes.get_note("alpha", created.id)
    assert (current.text, current.version) == ("v2", 2)


async def test_a_required_condition_refuses_an_unconditional_write(app: FastAPI) -> None:
    created = await notes.create_note("alpha", {"text": "guarded", "completed": False})
    required = WriteCondition(required=True)

    with pytest.raises(PreconditionRequired):
        await notes.update_note("alpha", created.id, {"text": "x"}, required)
    matching = WriteCondition(if_match=IfMatch(versions=frozenset({1})), required=True)
    await notes.delete_note("alpha", created.id, matching)
    with pytest.raises(NoteNotFound):
        await notes.get_note("alpha", created.id)


async def test_pages_follow_the_ids_and_say_whether_more_follow(app: FastAPI) -> None:
    ids = [
        (await notes.create_note("alpha", {"text": f"n{i}", "completed": i % 2 == 0})).id
        for i in range(5)
    ]

    first = await notes.list_notes("alpha", NoteQuery(limit=2))
    last = await notes.list_notes("alpha", NoteQuery(limit=3, after=ids[1]))
    done = await notes.list_notes("alpha", NoteQuery(completed=True, descending=True))

    assert ([row["id"] for row in first.notes], first.has_more) == (ids[:2], True)
    assert ([row["id"] for row in last.notes], last.has_more) == (ids[2:], False)
    assert [row["id"] for row in done.notes] == [ids[4], ids[2], ids[0]]
