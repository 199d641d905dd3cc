"""ETags and the conditional request headers (RFC 9110 section 13).

A note's ETag is its version, quoted: `"3"`. If-Match uses the strong comparison (a weak or
malformed tag never matches); If-None-Match the weak one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from service.models import ID_MAX
from service.notes import IfMatch

_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(values: Iterable[str]) -> IfMatch:
    """`*` (alone: RFC 9110 allows it only as the whole field) or the strong tags' versions."""
    values = list(values)
    if ",".join(values).strip() == "*":
        return IfMatch(any_version=True)
    versions: set[int] = set()
    for member in _members(values):
        match = _ENTITY_TAG.fullmatch(member)
        if match and not match.group(1) and (version := _version(match.group(2))) is not None:
            versions.add(version)
    return IfMatch(versions=frozenset(versions))


def if_none_match_hits(values: Iterable[str], version: int) -> bool:
    """Whether If-None-Match names the current version (so a GET answers 304)."""
    for member in _members(values):
        if member.strip() == "*":
            return True
        match = _ENTITY_TAG.fullmatch(member)
        if match and _version(match.group(2)) == version:
            return True
    return False


def _members(values: Iterable[str]) -> Iterable[str]:
    for value in values:
        yield from value.split(",")


def _version(opaque: str) -> int | None:
    # Only versions a note can have; anything else (e.g. "007", "9999999999") never matches.
    if opaque.isascii() and opaque.isdigit() and not opaque.startswith("0") and len(opaque) <= 10:
        version = int(opaque)
        return version if version <= ID_MAX else None
    return None
