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


class ChangeHead(Model):
    """Per client: the last change's seq, and the highest seq the retention purge removed.

    Only readers touch it: locking this row serialises the client's sequencers
    (service.changes.sequence explains why that makes the order exact); writes never do."""

    owner = fields.CharField(max_length=OWNER_MAX_LENGTH, primary_key=True)
    last_seq = fields.BigIntField(default=0, description="The seq of the client's last change.")
    purged_through = fields.BigIntField(
        default=0, description="Changes up to this seq were purged: an older cursor is a 410."
    )

    class Meta:
        table = "change_heads"

    def __str__(self) -> str:
        return f"Change head of {self.owner}"


class NoteChange(Model):
    """One entry of a client's change feed: a note as it was right after a write."""

    id = fields.BigIntField(primary_key=True)
    owner = fields.CharField(max_length=OWNER_MAX_LENGTH)
    seq = fields.BigIntField(
        null=True, description="1, 2, 3... per client, given after commit; NULL until then."
    )
    note_id = fields.IntField()
    type = fields.CharField(max_length=7, description="created, updated or deleted.")
    version = fields.IntField(description="The note's version after the write (deleted: before).")
    at = fields.DatetimeField(description="UTC; the purge removes changes past retention.")
    # The note's fields right after the write; all NULL for a deletion.
    text = fields.CharField(max_length=TEXT_MAX_LENGTH, null=True)
    completed = fields.BooleanField(null=True)
    created_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "note_changes"
        unique_together = (("owner", "seq"),)
        indexes = (("at",),)

    def __str__(self) -> str:
        return f"Change {self.seq} of {self.owner}"
