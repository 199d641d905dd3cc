"""API key configuration: parsing, the key ring, loading, and the create-key command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.api_keys import (
    InvalidKeyConfiguration,
    KeyRing,
    digest_of,
    generate_key,
    load_keyring,
    parse_entries,
)
from service.config import Settings
from tests.servers import REPO_ROOT, running_server

A, B = "a" * 64, "b" * 64


def test_entries_are_separated_by_commas_or_lines_with_comments_and_spaces() -> None:
    text = f" alpha:{A} ,beta:{B.upper()}\n# rotated on Monday\nalpha:{B}  # new key\n\n"
    assert parse_entries(text, source="test") == [("alpha", A), ("beta", B), ("alpha", B)]


def test_no_entries_means_authentication_is_off() -> None:
    assert not KeyRing.of(parse_entries(" , \n# nothing\n", source="test")).enabled


@pytest.mark.parametrize(
    "entry",
    [
        "alpha",  # no digest
        f"alpha {A}",
        "alpha:nsk_plaintext-key-by-mistake",
        f"alpha:{A[:-1]}",
        f":{A}",
        f"al pha:{A}",
        f"{'x' * 65}:{A}",
    ],
)
def test_a_malformed_entry_is_refused_without_showing_it(entry: str) -> None:
    with pytest.raises(InvalidKeyConfiguration) as refused:
        parse_entries(entry, source="API_KEYS")
    message = str(refused.value)
    assert message.startswith("API_KEYS:")
    assert entry not in message
    assert "plaintext" not in message


def test_the_anonymous_client_name_is_reserved() -> None:
    with pytest.raises(InvalidKeyConfiguration, match="reserved"):
        parse_entries(f"anonymous:{A}", source="API_KEYS")


def test_the_key_ring_finds_the_client_of_each_configured_key() -> None:
    old, new, other = generate_key(), generate_key(), generate_key()
    ring = KeyRing.of(
        [("alpha", digest_of(old)), ("alpha", digest_of(new)), ("beta", digest_of(other))]
    )

    assert ring.client_for(old) == ring.client_for(new) == "alpha"
    assert ring.client_for(other) == "beta"
    assert ring.client_for(old + "x") is None
    assert ring.client_for("") is None
    assert ring.clients == {"alpha", "beta"}


def test_generated_keys_are_long_random_and_recognisable() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(key.startswith("nsk_") and len(key) >= 40 for key in keys)


def test_keys_load_from_the_setting_and_the_file_together(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"beta:{B}\n")

    ring = load_keyring(Settings(API_KEYS=f"alpha:{A}", API_KEYS_FILE=str(key_file)))

    assert ring.clients == {"alpha", "beta"}


def test_an_unreadable_key_file_stops_the_start_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    with pytest.raises(InvalidKeyConfiguration, match="API_KEYS_FILE: cannot read"):
        load_keyring(Settings(API_KEYS_FILE=str(missing)))


@pytest.mark.live
def test_the_service_refuses_to_start_with_a_malformed_key_setting(
    settings: Settings, tmp_dir: Path
) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "API_KEYS": "alpha:nsk_plaintext"}
    with pytest.raises(RuntimeError) as refused, running_server(env, tmp_dir):
        pass
    assert "API_KEYS: an entry is not `client:sha256-hex`" in str(refused.value)
    assert "nsk_plaintext" not in str(refused.value)


def create_key(client: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "service", "create-key", client]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)


@pytest.mark.live
def test_create_key_prints_a_key_and_the_entry_that_configures_it() -> None:
    result = create_key("billing")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    key = next(line for line in lines if line.startswith("nsk_"))
    entry = next(line for line in lines if line.startswith("billing:"))

    assert entry == f"billing:{digest_of(key)}"
    assert KeyRing.of(parse_entries(entry, source="test")).client_for(key) == "billing"


@pytest.mark.live
def test_create_key_refuses_a_bad_client_name() -> None:
    result = create_key("anonymous")
    assert result.returncode != 0
    assert "reserved" in result.stderr
