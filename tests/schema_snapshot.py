"""Introspect a database's schema into a comparable form, and build a reference one.

`python -m tests.schema_snapshot URL` creates the schema straight from the models
(Tortoise's generate_schemas, plus the few HAND_WRITTEN statements) in the empty database
at URL: the reference the migrations must reproduce. It runs in its own process so it never
touches the test session's Tortoise.

Column order and column defaults are not compared: a column a migration adds comes last, and
it needs a database default for the rows that exist (`owner` is 'anonymous'), where the
models leave defaults to Python. The search indexes (`notes_search_*`) are not compared.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from service.config import Settings
from service.db import tortoise_config
from tests.databases import connect_to

Snapshot = dict[str, Any]
# The search indexes (`*_add_search.py`) are hand-written SQL no model describes: left out here,
# checked by tests/test_search_migration.py.
SEARCH_OBJECTS = "notes_search_"


async def snapshot(url: str) -> Snapshot:
    if url.startswith("sqlite://"):
        return _sqlite_snapshot(expand_db_url(url)["credentials"]["file_path"])
    return await _postgres_snapshot(url)


def _sqlite_snapshot(path: str) -> Snapshot:
    with sqlite3.connect(path) as db:
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
            if row[0] != "sqlite_sequence" and not row[0].startswith(SEARCH_OBJECTS)
        ]
        result: Snapshot = {}
        for table in tables:
            # name, type, notnull, pk (table_info also gives cid and dflt_value)
            columns = sorted(
                (row[1], row[2], row[3], row[5])
                for row in db.execute(f'PRAGMA table_info("{table}")')
            )
            indexes = {
                tuple(col[2] for col in db.execute(f'PRAGMA index_info("{index[1]}")')): index[2]
                for index in db.execute(f'PRAGMA index_list("{table}")')
            }
            autoincrement = (
                "AUTOINCREMENT"
                in (
                    db.execute("SELECT sql FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
                )
            )
            result[table] = {"columns": columns, "indexes": indexes, "autoincrement": autoincrement}
        return result


async def _postgres_snapshot(url: str) -> Snapshot:
    connection = await connect_to(url)
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, column_default,"
            " character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        )
        indexes = await connection.fetch(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " ORDER BY tablename, indexdef"
        )
    finally:
        await connection.close()
    result: Snapshot = {}
    for row in columns:
        table = result.setdefault(row["table_name"], {"columns": [], "indexes": []})
        default = row["column_default"]
        sequence = default if default and default.startswith("nextval(") else None
        table["columns"].append(
            (
                row["column_name"],
                row["data_type"],
                row["is_nullable"],
                sequence,
                row["character_maximum_length"],
            )
        )
        table["columns"].sort()
    for row in indexes:
        if re.match(rf"CREATE INDEX {SEARCH_OBJECTS}", row["indexdef"]):
            continue
        # Index names embed a hash of the model; compare what is indexed and how.
        definition = re.sub(r"INDEX \S+ ON", "INDEX ON", row["indexdef"])
        result[row["tablename"]]["indexes"].append(definition)
    return result


# What migrations add by hand because the models cannot say it (Tortoise's partial indexes
# only know `column = value`): migration 3's index of the changes not yet numbered.
HAND_WRITTEN = (
    'CREATE INDEX "idx_note_change_pending" ON "note_changes" ("owner", "id") WHERE "seq" IS NULL',
)


async def create_from_models(url: str) -> None:
    await Tortoise.init(config=tortoise_config(Settings(DATABASE_URL=url)))
    try:
        await Tortoise.generate_schemas(safe=False)
        for statement in HAND_WRITTEN:
            await Tortoise.get_connection("default").execute_script(statement)
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(create_from_models(sys.argv[1]))
