"""Prepared queries: Tortoise's SQL for a shape, generated once and run with new values."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tortoise.queryset import ValuesQuery

from service.internals.prepared import PreparedQuery, UnpreparableQuery
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
