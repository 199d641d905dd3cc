"""Baseline: the FastAPI docs' async SQL notes example (encode/databases + SQLAlchemy Core).

Written as the example is, with two things it lacks but the benchmark needs, in its style:
`GET /notes/{id}` and keyset paging (`limit`, `after`) on `GET /notes/` (the original returns
every row). Its table is the example's: `id`, `text`, `completed`. Run with
`uvicorn bench.baseline_app:app`; `BENCH_DATABASE_URL` names the PostgreSQL database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import databases
import sqlalchemy
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench")

database = databases.Database(DATABASE_URL)

metadata = sqlalchemy.MetaData()

notes = sqlalchemy.Table(
    "notes",
    metadata,
    sqlalchemy.Column("id", sqlalchemy.Integer, primary_key=True),
    sqlalchemy.Column("text", sqlalchemy.String),
    sqlalchemy.Column("completed", sqlalchemy.Boolean),
)


class NoteIn(BaseModel):
    text: str
    completed: bool


class Note(BaseModel):
    id: int
    text: str
    completed: bool


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await database.connect()
    yield
    await database.disconnect()


app = FastAPI(lifespan=lifespan)


@app.get("/notes/", response_model=list[Note])
async def read_notes(limit: int = 100, after: int = 0) -> Any:
    query = notes.select().where(notes.c.id > after).order_by(notes.c.id).limit(limit)
    return await database.fetch_all(query)


@app.get("/notes/{note_id}", response_model=Note)
async def read_note(note_id: int) -> Any:
    query = notes.select().where(notes.c.id == note_id)
    note = await database.fetch_one(query)
    if note is None:
        raise HTTPException(status_code=404, detail="Note not found")
    return note


@app.post("/notes/", response_model=Note)
async def create_note(note: NoteIn) -> Any:
    query = notes.insert().values(text=note.text, completed=note.completed)
    last_record_id = await database.execute(query)
    return {**note.model_dump(), "id": last_record_id}
