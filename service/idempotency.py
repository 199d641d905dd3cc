"""Idempotent creates: the only module that queries `idempotent_creates`.

A create with an Idempotency-Key inserts the note and the key's record in one transaction.
The unique (owner, key) constraint decides which of several concurrent requests binds the
key — on one replica or on many: the database makes the losers wait for the winner's
commit, their inserts fail, they roll back (their note with them) and answer with the
winner's stored response. Only a create that commits binds a key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from service import notes
from service.change_notifier import NOTIFIER
from service.errors import IdempotencyKeyReused
from service.models import IdempotentCreate
from service.periodic import purge_every

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 1_000


@dataclass(frozen=True)
class Created:
    """The answer to a create: the note's id and version, and the body as first sent."""

    note_id: int
    version: int
    body: str
    replayed: bool


def fingerprint(fields: Mapping[str, Any]) -> str:
    """The request as parsed (defaults filled in), independent of key order and spacing."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def create_once(owner: str, key: str, fields: Mapping[str, Any]) -> Created:
    """Create a note unless `owner` already did with `key`; then answer as the first time."""
    request_fingerprint = fingerprint(fields)
    # Each pass either answers or saw another request bind the key first; a third outcome
    # needs the key purged and bound again between two statements.
    while True:
        bound = await IdempotentCreate.get_or_none(owner=owner, key=key)
        if bound is not None:
            return _replay(bound, request_fingerprint)
        try:
            async with in_transaction() as connection:
                note = await notes.create_note(owner, fields, connection=connection)
                body = note.model_dump_json()
                await IdempotentCreate.create(
                    owner=owner,
                    key=key,
                    fingerprint=request_fingerprint,
                    note_id=note.id,
                    response_body=body,
                    created_at=note.created_at,
                    using_db=connection,
                )
        except IntegrityError:
            continue  # a concurrent request bound the key first: answer as it was answered
        NOTIFIER.wake(owner)
        return Created(note_id=note.id, version=note.version, body=body, replayed=False)


def _replay(bound: IdempotentCreate, request_fingerprint: str) -> Created:
    if bound.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused
    version: int = json.loads(bound.response_body)["version"]
    return Created(note_id=bound.note_id, version=version, body=bound.response_body, replayed=True)


async def purge_expired(retention: timedelta) -> int:
    """Forget keys older than `retention`, in small batches so no request waits on a big
    delete; returns how many were forgotten."""
    cutoff = datetime.now(UTC) - retention
    purged = 0
    while True:
        ids = await (
            IdempotentCreate.filter(created_at__lt=cutoff)
            .limit(PURGE_BATCH_SIZE)
            .values_list("id", flat=True)
        )
        if ids:
            purged += await IdempotentCreate.filter(id__in=ids).delete()
        if len(ids) < PURGE_BATCH_SIZE:
            return purged


async def purge_periodically(retention: timedelta, interval: float) -> None:
    """Run `purge_expired` every `interval` seconds until cancelled."""
    await purge_every(interval, lambda: purge_expired(retention), "expired idempotency keys")
