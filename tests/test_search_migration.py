"""The search migration on a database that already holds notes: the indexes are built for the
rows already there (PostgreSQL: concurrently, outside Aerich's transaction), and rows written
by plain SQL afterwards are found too."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from service.db import APP_LABEL, MIGRATIONS_LOCATION
from service.migrate import migration_files
from tests.databases import connect_to, throwaway_database
from tests.servers import run_to_end, running_server

pytestmark = pytest.mark.live  # the migrate command and the service, as processes

SEARCH_MIGRATION = next(name for name in migration_files() if name.endswith("_add_search.py"))
UPGRADE_TO = """
import asyncio, sys
from aerich import Command
from service.config import Settings
from service.db import APP_LABEL, tortoise_config

async def main() -> None:
    config = tortoise_config(Settings(DATABASE_URL=sys.argv[1]))
    async with Command(tortoise_config=config, app=APP_LABEL, location=sys.argv[2]) as command:
        await command.init()
        await command.upgrade(run_in_transaction=True)

asyncio.run(main())
"""
INSERT = (
    "INSERT INTO notes (owner, text, completed, created_at, updated_at, version) "
    "VALUES ('anonymous', {text}, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
)


def history_before_search(directory: Path) -> Path:
    """A copy of the migrations that stops before the search migration."""
    location = directory / "history-before-search"
    (location / APP_LABEL).mkdir(parents=True)
    for name in migration_files():
        if name == SEARCH_MIGRATION:
            break
        shutil.copy(Path(MIGRATIONS_LOCATION, APP_LABEL, name), location / APP_LABEL / name)
    return location


async def execute(url: str, statements: list[str]) -> None:
    if url.startswith("sqlite://"):
        with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as db, db:
            for statement in statements:
                db.execute(statement)
        return
    connection = await connect_to(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def test_the_search_migration_indexes_the_notes_already_there(
    tmp_dir: Path, tmp_path: Path
) -> None:
    async with throwaway_database(tmp_dir) as url:
        history = str(history_before_search(tmp_path))
        before = run_to_end([sys.executable, "-c", UPGRADE_TO, url, history], url)
        assert before.returncode == 0, before.stderr
        texts = ["'an old note about pelicans'", "'an old note about herons'"]
        await execute(url, [INSERT.format(text=text) for text in texts * 50])

        migrated = run_to_end([sys.executable, "-m", "service", "migrate"], url)
        assert migrated.returncode == 0, migrated.stderr
        assert f"Applied migration {SEARCH_MIGRATION}" in migrated.stdout.splitlines()
        if not url.startswith("sqlite://"):
            connection = await connect_to(url)
            valid = await connection.fetch(
                "SELECT indexrelid::regclass::text AS name, indisvalid FROM pg_index"
                " WHERE indexrelid::regclass::text LIKE 'notes_search_%'"
            )
            await connection.close()
            assert sorted(tuple(row) for row in valid) == [
                ("notes_search_trigram", True),
                ("notes_search_words", True),
            ]
        await execute(url, [INSERT.format(text="'written later by SQL: pelicans again'")])

        with running_server({"DATABASE_URL": url}, tmp_dir) as server:
            by_word = httpx.get(
                f"{server.base_url}/notes", params={"search": "pelicans", "limit": 500}
            )
            by_substring = httpx.get(
                f"{server.base_url}/notes", params={"q": "HERON", "limit": 500}
            )

    assert by_word.status_code == 200, by_word.text
    assert len(by_word.json()) == 51
    assert by_word.json()[-1]["text"] == "written later by SQL: pelicans again"
    assert len(by_substring.json()) == 50
