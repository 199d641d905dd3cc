"""The service's answers read as notes, or raised as exceptions - without I/O, so both
clients read them the same way."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import TypeAdapter

from notes_client.calls import Call
from notes_client.errors import ProblemError, error_for
from notes_client.models import Change, Note

_NOTES = TypeAdapter(list[Note])
_CHANGES = TypeAdapter(list[Change])


@dataclass(frozen=True)
class Answer:
    call: Call
    response: httpx.Response
    attempts: int
    maybe_applied: bool  # an earlier attempt may have been applied; its answer was lost

    def error(self) -> ProblemError:
        return error_for(self.response, attempts=self.attempts, maybe_applied=self.maybe_applied)


def note_from(answer: Answer) -> Note:
    response, cached = answer.response, answer.call.cached
    if response.status_code == 304 and cached is not None:
        return cached
    if not response.is_success:
        raise answer.error()
    return Note.model_validate_json(response.content)


def notes_from(answer: Answer) -> list[Note]:
    if not answer.response.is_success:
        raise answer.error()
    return _NOTES.validate_json(answer.response.content)


def changes_from(answer: Answer) -> list[Change]:
    if not answer.response.is_success:
        raise answer.error()
    return _CHANGES.validate_json(answer.response.content)


def deleted(answer: Answer) -> None:
    status = answer.response.status_code
    # A 404 after an attempt whose answer was lost: that attempt deleted it.
    if answer.response.is_success or (status == 404 and answer.maybe_applied):
        return
    raise answer.error()


def written_by_us(current: Note, write: Call) -> bool:
    """After a 412 on a retried conditional write: whether the lost first attempt made
    `current` - exactly one version after the note written, holding exactly what was sent."""
    sent = write.target
    body = write.json or {}
    same_values = all(getattr(current, name) == value for name, value in body.items())
    return isinstance(sent, Note) and current.version == sent.version + 1 and same_values
