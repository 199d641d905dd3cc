"""A real uvicorn server with API keys configured, for the authentication and isolation tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.api_keys import digest_of, generate_key
from service.config import Settings
from tests.servers import Server, running_server


@dataclass(frozen=True)
class Keys:
    alpha: str  # client "alpha", from API_KEYS
    alpha_rotated: str  # a second key of "alpha", from API_KEYS: rotation in progress
    beta: str  # client "beta", from API_KEYS_FILE

    def bearer(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(alpha=generate_key(), alpha_rotated=generate_key(), beta=generate_key())


@pytest.fixture(scope="session")
def keyed_server(settings: Settings, keys: Keys, tmp_dir: Path) -> Iterator[Server]:
    key_file = tmp_dir / "api-keys"
    key_file.write_text(f"# a secret mount\nbeta:{digest_of(keys.beta)}\n")
    env = {
        "DATABASE_URL": settings.DATABASE_URL,
        "API_KEYS": f"alpha:{digest_of(keys.alpha)}, alpha:{digest_of(keys.alpha_rotated)}",
        "API_KEYS_FILE": str(key_file),
        "CORS_ORIGINS": "https://app.example",
        "LOG_LEVEL": "debug",
    }
    with running_server(env, tmp_dir) as server:
        yield server
