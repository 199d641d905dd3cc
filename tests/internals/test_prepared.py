"""Prepared queries: Tortoise's SQL for a shape, generated once and run with new values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tortoise import connections
from tortoise.queryset import ValuesQuery

from service.internals.prepared import PreparedInsert, PreparedQuery, UnpreparableQuery
from service.models import Note
from tests.factories import create_note

FIELDS = ("id", "text", "completed")


def by_state(completed: bool, after: int) -> ValuesQuery[Any]:
    return Note.filter(completed=completed, id__gt=after).order_by("id").limit(10).values(*FIELDS)


async def test_a_prepared_query_answers_as_the_queryset_does(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = [
        await create_note(client, text=f"note {number}", completed=number % 2 == 0)
        for number in range(6)
    ]
    first: int = created[0]["id"]
    prepared = PreparedQuery(
        by_state,
        connection="default",
        completed=True,
        after=2_000_000_000,
    )
    for completed in (True, False):
        for after in (0, first, first + 3):
            expected = await by_state(completed, after)
            assert await prepared.fetch(completed=completed, after=after) == expected
    assert len(prepared._by_dialect) == 1  # the SQL was generated once


async def test_a_value_tortoise_rewrites_cannot_be_prepared(app: FastAPI) -> None:
    prepared = PreparedQuery(
        lambda search: Note.filter(text__icontains=search).values(*FIELDS),
        connection="default",
        search="sample",
    )
    with pytest.raises(UnpreparableQuery, match="search"):
        await prepared.fetch(search="milk")


async def test_an_insert_stores_what_model_create_would(app: FastAPI) -> None:
    """Columns left out take the model's defaults (a new column with a default needs no
    change here), auto_now_add timestamps are set, and the row comes back with its key."""
    insert = PreparedInsert(Note, connection="default")
    now = datetime.now(UTC)
    row = await insert.insert({"text": "defaults", "updated_at": now})

    stored = await Note.get(id=row["id"])
    created = await Note.create(text="by the ORM", updated_at=now)
    assert row["id"] == stored.id
    for name in ("owner", "completed", "version"):
        assert row[name] == getattr(stored, name) == getattr(created, name), name
    assert row["created_at"] >= now
    assert stored.created_at == row["created_at"]


async def test_a_missing_value_without_a_default_is_refused(app: FastAPI) -> None:
    insert = PreparedInsert(Note, connection="default")
    with pytest.raises(ValueError, match="text"):
        await insert.insert({"updated_at": datetime.now(UTC)})


def test_the_executor_attributes_it_reads_are_there(app: FastAPI) -> None:
    """PreparedInsert runs the INSERT Tortoise's executor caches for the model: its SQL and
    its columns, which leave out the generated key."""
    db = connections.get("default")
    executor = db.executor_class(model=Note, db=db)
    assert "INSERT" in executor.insert_query.upper()
    assert "id" not in executor.regular_columns
    assert set(executor.regular_columns) == set(Note._meta.fields_map) - {"id"}
