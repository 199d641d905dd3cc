"""Naive Tortoise: the tortoise-orm `examples/fastapi` shape, on the service's table.

What a FastAPI engineer writes first with Tortoise: a model, schemas from
`pydantic_model_creator`, `RegisterTortoise` for the connections, and routes that call
`Note.get`, `Note.create` and `from_queryset`, with no middleware, no access log and no
metrics. Its model declares the service's `notes` table (migrated by Aerich) and scopes every
query by owner as the service does. Run with `uvicorn bench.naive_app:app`;
`BENCH_DATABASE_URL` names the PostgreSQL database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from tortoise import fields
from tortoise.contrib.fastapi import RegisterTortoise
from tortoise.contrib.pydantic import pydantic_model_creator
from tortoise.models import Model

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1/bench")
OWNER = "anonymous"  # the service's client when authentication is off


class Note(Model):
    id = fields.IntField(primary_key=True)
    owner = fields.CharField(max_length=64, default=OWNER)
    text = fields.CharField(max_length=10_000)
    completed = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    version = fields.IntField(default=1)

    class Meta:
        table = "notes"


Note_Pydantic = pydantic_model_creator(Note, name="Note", exclude=("owner",))
NoteIn_Pydantic = pydantic_model_creator(
    Note, name="NoteIn", include=("text", "completed"), exclude_readonly=True
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with RegisterTortoise(
        app,
        db_url=DATABASE_URL,
        modules={"models": [__name__]},
        generate_schemas=False,
        add_exception_handlers=True,  # DoesNotExist is a 404, as in the example
    ):
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/notes/", response_model=list[Note_Pydantic])  # type: ignore[valid-type]
async def list_notes(limit: int = 100, after: int = 0) -> Any:
    query = Note.filter(owner=OWNER, id__gt=after).order_by("id").limit(limit)
    return await Note_Pydantic.from_queryset(query)


@app.get("/notes/{note_id}", response_model=Note_Pydantic)
async def get_note(note_id: int, response: Response) -> Any:
    note = await Note_Pydantic.from_queryset_single(Note.get(owner=OWNER, id=note_id))
    response.headers["ETag"] = f'"{note.version}"'  # type: ignore[attr-defined]
    return note


@app.post("/notes/", response_model=Note_Pydantic, status_code=201)
async def create_note(note: NoteIn_Pydantic, response: Response) -> Any:  # type: ignore[valid-type]
    created = await Note.create(**note.model_dump(exclude_unset=True))  # type: ignore[attr-defined]
    response.headers["Location"] = f"/notes/{created.id}"
    response.headers["ETag"] = f'"{created.version}"'
    return await Note_Pydantic.from_tortoise_orm(created)
