"""Tortoise models. Aerich owns the schema: a change here needs a migration
(docs/development.md, "Adding a migration")."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

TEXT_MAX_LENGTH = 10_000
# The id column is PostgreSQL's `integer`; ids outside it are refused before any query.
ID_MAX = 2**31 - 1
OWNER_MAX_LENGTH = 64
ANONYMOUS_CLIENT = "anonymous"  # owns every note created while authentication is off


class Note(Model):
    id = fields.IntField(primary_key=True, description="Assigned by the service, never reused.")
    owner = fields.CharField(
        max_length=OWNER_MAX_LENGTH,
        default=ANONYMOUS_CLIENT,
        description="The client that created the note; only it sees the note.",
    )
    text = fields.CharField(
        max_length=TEXT_MAX_LENGTH,
        description="1 to 10,000 characters, at least one of them not whitespace; stored as sent.",
    )
    completed = fields.BooleanField(default=False, description="Whether the note is done.")
    created_at = fields.DatetimeField(auto_now_add=True, description="UTC, set on create.")
    # Set by the use-cases (not auto_now) so a new note's two timestamps are equal.
    updated_at = fields.DatetimeField(description="UTC, set on create and on every change.")
    version = fields.IntField(
        default=1, description="Starts at 1, +1 on every change; the note's ETag."
    )

    class Meta:
        table = "notes"
        # Every query is scoped by owner: these serve get/write by id, listing and filtering.
        indexes = (("owner", "id"), ("owner", "completed", "id"))

    def __str__(self) -> str:
        return f"Note {self.id} v{self.version}"


IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotentCreate(Model):
    """A create bound to an Idempotency-Key: what the first request sent and was answered."""

    id = fields.BigIntField(primary_key=True)
    owner = fields.CharField(
        max_length=OWNER_MAX_LENGTH, description="The client that sent the key."
    )
    key = fields.CharField(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    fingerprint = fields.CharField(
        max_length=64, description="SHA-256 of the request body as parsed, with defaults."
    )
    note_id = fields.IntField(description="The note the create made (it may be gone since).")
    response_body = fields.TextField(description="The 201 body exactly as first sent.")
    created_at = fields.DatetimeField(description="UTC; the purge removes keys past retention.")

    class Meta:
        table = "idempotent_creates"
        unique_together = (("owner", "key"),)
        indexes = (("created_at",),)

    def __str__(self) -> str:
        return f"Idempotency key of note {self.note_id}"
