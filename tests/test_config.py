"""Settings come from the environment when built, with safe defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.config import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert settings.DATABASE_URL == "sqlite://data/notes.sqlite3"
    assert settings.is_sqlite
    assert (settings.HOST, settings.PORT) == ("127.0.0.1", 8000)
    assert settings.REQUIRE_IF_MATCH is False
    assert settings.MAX_BODY_BYTES == 65_536


def test_environment_variables_are_read_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "20")
    settings = Settings()
    assert settings.DATABASE_URL == "postgres://u@h/db"
    assert not settings.is_sqlite
    assert settings.DB_POOL_MAX_SIZE == 20


def test_an_inverted_pool_is_refused() -> None:
    with pytest.raises(ValidationError, match="DB_POOL_MIN_SIZE"):
        Settings(DB_POOL_MIN_SIZE=5, DB_POOL_MAX_SIZE=2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "0"),
        ("LOG_LEVEL", "loud"),
        ("DB_POOL_MAX_SIZE", "0"),
        ("IDEMPOTENCY_RETENTION_HOURS", "23.5"),  # callers are promised a day
        ("IDEMPOTENCY_PURGE_INTERVAL_SECONDS", "0"),
        ("MAX_BODY_BYTES", "1023"),  # some valid notes could not be sent
        ("MAX_BODY_BYTES", "10485761"),  # bodies are held in memory while checked
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
