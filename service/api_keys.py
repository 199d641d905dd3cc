"""API keys: which client a presented key belongs to.

Keys are configured as `client:sha256-hex-of-key` entries (API_KEYS, and/or one per line in
API_KEYS_FILE — a Docker/Kubernetes secret), so no plaintext key lives in the image, the
compose file or the environment. A client may have several entries at once: that is how
keys are rotated. No key configured means authentication is off (the embedded setup).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from service.config import Settings
from service.models import ANONYMOUS_CLIENT

KEY_PREFIX = "nsk_"
_CLIENT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class InvalidKeyConfiguration(ValueError):
    """API_KEYS or API_KEYS_FILE holds something that is not `client:sha256-hex`."""


def generate_key() -> str:
    """A new random key: 256 bits from the OS's CSPRNG, URL-safe, recognisable by its prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_entries(text: str, *, source: str) -> list[tuple[str, str]]:
    """`client:digest` entries separated by commas or newlines; `#` starts a comment."""
    entries = []
    for line in text.splitlines():
        for raw in line.split("#", 1)[0].split(","):
            entry = raw.strip()
            if not entry:
                continue
            client, _, digest = entry.partition(":")
            digest = digest.strip().lower()
            client = client.strip()
            if not _CLIENT_NAME.fullmatch(client) or not _DIGEST.fullmatch(digest):
                raise InvalidKeyConfiguration(
                    f"{source}: an entry is not `client:sha256-hex` (client 1-64 of "
                    "A-Za-z0-9._-, then the 64 hex digits `python -m service create-key` "
                    "prints); the entry is not shown here because it may be a secret"
                )
            if client == ANONYMOUS_CLIENT:
                raise InvalidKeyConfiguration(
                    f"{source}: the client name {ANONYMOUS_CLIENT!r} is reserved for notes "
                    "created while authentication is off; choose another name"
                )
            entries.append((client, digest))
    return entries


@dataclass(frozen=True)
class KeyRing:
    """The configured keys, by SHA-256 digest. Empty: authentication is off."""

    entries: tuple[tuple[bytes, str], ...] = field(default=())

    @classmethod
    def of(cls, entries: Iterable[tuple[str, str]]) -> KeyRing:
        return cls(tuple((bytes.fromhex(digest), client) for client, digest in entries))

    @property
    def enabled(self) -> bool:
        return bool(self.entries)

    @property
    def clients(self) -> set[str]:
        return {client for _, client in self.entries}

    def client_for(self, key: str) -> str | None:
        """The client owning `key`, or None. Compares against every entry in constant time,
        so the time taken says nothing about which entry (or how much of one) matched."""
        presented = hashlib.sha256(key.encode()).digest()
        found = None
        for digest, client in self.entries:
            if hmac.compare_digest(digest, presented):
                found = client
        return found


def load_keyring(settings: Settings) -> KeyRing:
    entries = parse_entries(settings.API_KEYS, source="API_KEYS")
    if settings.API_KEYS_FILE is not None:
        path = Path(settings.API_KEYS_FILE)
        try:
            text = path.read_text()
        except OSError as exc:
            raise InvalidKeyConfiguration(
                f"API_KEYS_FILE: cannot read {path}: {exc.strerror}"
            ) from None
        entries += parse_entries(text, source=f"API_KEYS_FILE ({path})")
    return KeyRing.of(entries)
