"""Tortoise models. Aerich owns the schema: a change here needs a migration (see the README)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

TEXT_MAX_LENGTH = 10_000
# The id column is PostgreSQL's `integer`; ids outside it are refused before any query.
ID_MAX = 2**31 - 1


class Note(Model):
    id = fields.IntField(primary_key=True, description="Assigned by the service, never reused.")
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
        indexes = (("completed", "id"),)

    def __str__(self) -> str:
        return f"Note {self.id} v{self.version}"
