"""The note as the client sees it: written here, independent of the server's own schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Note(BaseModel):
    """A note, as the service returned it. Immutable: writes return a new Note.

    Unknown fields are ignored, so a newer service that adds fields does not break an older
    client. Pass the Note itself (not its id) to `patch`, `replace` and `delete` to make the
    write conditional on `version` (If-Match): it then fails with PreconditionFailed instead
    of overwriting a change you have not seen.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    text: str
    completed: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def etag(self) -> str:
        """The note's ETag: its version, quoted (`"3"`)."""
        return f'"{self.version}"'


class Change(BaseModel):
    """One change of the feed (`NotesClient.changes`): the note right after a create or an
    update, or `None` with the version it had when it was deleted. `seq` is its cursor."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    seq: int
    type: Literal["created", "updated", "deleted"]
    note_id: int
    version: int
    at: datetime
    note: Note | None
