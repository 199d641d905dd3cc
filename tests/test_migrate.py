"""Migrations: Aerich brings an empty database to exactly the schema the models describe, and
the service refuses to serve a database that is behind."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from service.migrate import migration_files
from tests.databases import connect_to, throwaway_database
from tests.schema_snapshot import snapshot
from tests.servers import REPO_ROOT, free_port, run_to_end, running_server

pytestmark = pytest.mark.live  # the migrate command, Aerich and servers, as processes


def aerich(*args: str) -> list[str]:
    return [sys.executable, "-m", "aerich", "-c", "aerich.ini", *args]


async def test_migrations_build_the_schema_the_models_describe(tmp_dir: Path) -> None:
    async with throwaway_database(tmp_dir) as migrated, throwaway_database(tmp_dir) as reference:
        assert run_to_end([sys.executable, "-m", "service", "migrate"], migrated).returncode == 0
        made = run_to_end([sys.executable, "-m", "tests.schema_snapshot", reference], reference)
        assert made.returncode == 0, made.stderr

        from_migrations, from_models = await snapshot(migrated), await snapshot(reference)

    assert "notes" in from_migrations
    assert from_migrations == from_models


def test_aerich_has_no_pending_model_changes() -> None:
    """Fails when a model changes without a migration (migrations/make.py NAME writes one)."""
    result = subprocess.run(
        [sys.executable, "migrations/make.py", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_the_aerich_cli_upgrades_an_empty_database(tmp_dir: Path) -> None:
    async with throwaway_database(tmp_dir) as url:
        first = run_to_end(aerich("upgrade"), url)
        again = run_to_end([sys.executable, "-m", "service", "migrate"], url)
        history = run_to_end(aerich("history"), url)

    assert first.returncode == 0, first.stderr
    assert all(name in first.stdout for name in migration_files())
    assert again.stdout.strip() == "The database is up to date."
    assert all(name in history.stdout for name in migration_files())


async def test_the_migrate_command_applies_every_migration_once(tmp_dir: Path) -> None:
    async with throwaway_database(tmp_dir) as url:
        first = run_to_end([sys.executable, "-m", "service", "migrate"], url)
        second = run_to_end([sys.executable, "-m", "service", "migrate"], url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"Applied migration {name}" for name in migration_files()]
    assert second.stdout.strip() == "The database is up to date."


async def test_the_service_refuses_to_serve_a_database_that_is_behind(tmp_dir: Path) -> None:
    async with throwaway_database(tmp_dir) as url:
        with pytest.raises(RuntimeError) as refused, running_server({"DATABASE_URL": url}, tmp_dir):
            pass

    message = str(refused.value)
    assert "migration(s) not applied" in message
    assert "python -m service migrate" in message


async def forget_newest_migration(database_url: str) -> str:
    """Make the database look one migration behind the code; returns that migration's name."""
    newest = migration_files()[-1]
    forget = "DELETE FROM aerich WHERE version = $1"
    if database_url.startswith("sqlite://"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as db, db:
            db.execute(forget.replace("$1", "?"), (newest,))
    else:
        connection = await connect_to(database_url)
        await connection.execute(forget, newest)
        await connection.close()
    return newest


async def test_a_database_behind_stops_the_start_with_one_clear_line(tmp_dir: Path) -> None:
    async with throwaway_database(tmp_dir) as url:
        assert run_to_end([sys.executable, "-m", "service", "migrate"], url).returncode == 0
        missing = await forget_newest_migration(url)
        refused = run_to_end(
            [sys.executable, "-m", "service", "serve"],
            url,
            HOST="127.0.0.1",
            PORT=str(free_port()),
        )

    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "Traceback" not in output
    lines = [json.loads(line) for line in output.splitlines()]
    (reason,) = [line for line in lines if "migration(s) not applied" in line["event"]]
    assert reason["level"] == "error"
    assert "\n" not in reason["event"]
    assert missing in reason["event"]
    assert "python -m service migrate" in reason["event"]
    assert not [line for line in lines if "exception" in line]


async def test_concurrent_migrate_commands_apply_each_migration_exactly_once(
    tmp_dir: Path,
) -> None:
    """Replicas starting at once: one process applies the migrations, the others wait for
    its lock and then find the database up to date (PostgreSQL: an advisory lock; SQLite:
    a lock file)."""
    replicas = 4
    async with throwaway_database(tmp_dir) as url:
        env = {**os.environ, "DATABASE_URL": url}
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "service", "migrate"],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(replicas)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
        history = run_to_end(aerich("history"), url)

    assert [process.returncode for process in processes] == [0] * replicas, outputs
    reports = sorted(stdout.strip() for stdout, _ in outputs)
    applied = "\n".join(f"Applied migration {name}" for name in migration_files())
    assert reports == sorted([applied] + ["The database is up to date."] * (replicas - 1))
    assert all(history.stdout.count(name) == 1 for name in migration_files()), history.stdout
