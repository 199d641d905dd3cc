"""The Tortoise configuration and the classification of database outages."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from tortoise.exceptions import DBConnectionError, IntegrityError

from service.config import Settings
from service.db import is_unavailable_error, tortoise_config


def test_postgres_pool_settings_come_from_the_settings() -> None:
    settings = Settings(
        DATABASE_URL="postgres://u:p@db.internal:5433/notes",
        DB_POOL_MIN_SIZE=2,
        DB_POOL_MAX_SIZE=7,
        DB_CONNECT_TIMEOUT=1.5,
        DB_COMMAND_TIMEOUT=3,
    )
    credentials = tortoise_config(settings)["connections"]["default"]["credentials"]
    assert credentials["host"] == "db.internal"
    assert credentials["port"] == 5433
    assert (credentials["minsize"], credentials["maxsize"]) == (2, 7)
    assert credentials["timeout"] == 1.5
    assert credentials["command_timeout"] == 3


def test_the_sqlite_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "dir" / "notes.sqlite3"
    tortoise_config(Settings(DATABASE_URL=f"sqlite://{target}"))
    assert target.parent.is_dir()


def test_config_keeps_utc() -> None:
    config = tortoise_config(Settings(DATABASE_URL="sqlite://:memory:"))
    assert config["use_tz"] is True
    assert config["timezone"] == "UTC"


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        DBConnectionError("gone"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
    ],
)
def test_outages_are_recognised(exc: Exception) -> None:
    assert is_unavailable_error(exc)


def test_a_wrapped_outage_is_recognised() -> None:
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = ConnectionResetError()
    assert is_unavailable_error(wrapped)


@pytest.mark.parametrize("exc", [ValueError(), IntegrityError("dup"), KeyError("x")])
def test_other_errors_are_not_outages(exc: Exception) -> None:
    assert not is_unavailable_error(exc)
