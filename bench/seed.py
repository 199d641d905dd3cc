"""Benchmark databases: created under unique names on the PostgreSQL server, seeded, dropped.

The service's and the ceiling's databases get the service's schema from its own migrations
(`python -m service migrate`; another revision's service, from that revision's: its notes
table must have the columns SERVICE_SEED fills); the baseline's gets the docs example's
table. Notes are inserted with one `generate_series` statement, then the tables are analyzed
and vacuumed so every app starts with the same fresh statistics.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.servers import environ_for

ROOT = Path(__file__).resolve().parent.parent
NOTE_TEXT = "Remember to learn async DB calls! This is note number "

BASELINE_SCHEMA = """
CREATE TABLE notes (id SERIAL PRIMARY KEY, text VARCHAR, completed BOOLEAN);
INSERT INTO notes (text, completed)
SELECT $$%s$$ || n, n %% 3 = 0 FROM generate_series(1, %d) AS n;
"""
SERVICE_SEED = """
INSERT INTO notes (text, completed, created_at, updated_at, version)
SELECT $$%s$$ || n, n %% 3 = 0, stamp, stamp, 1
FROM generate_series(1, %d) AS n, LATERAL (SELECT now() - (%d - n) * interval '1 ms') AS t(stamp);
"""


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def database(server_url: str, label: str) -> AsyncIterator[str]:
    """A new empty database named after `label`; yields its URL and drops it afterwards."""
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def seed_baseline(url: str, notes: int) -> None:
    await _run(url, BASELINE_SCHEMA % (NOTE_TEXT, notes))


async def seed_service(
    url: str, notes: int, python: str = sys.executable, cwd: Path = ROOT
) -> None:
    """Migrate with the service's own command (this checkout's, or with `python` and `cwd`
    another revision's: bench/revision.py), then insert `notes` notes."""
    env = {**environ_for(python), "DATABASE_URL": url}
    subprocess.run(
        [python, "-m", "service", "migrate"],
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    await _run(url, SERVICE_SEED % (NOTE_TEXT, notes, notes))


async def _run(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
        await connection.execute("VACUUM ANALYZE notes")
    finally:
        await connection.close()
