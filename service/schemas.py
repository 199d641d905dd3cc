"""Pydantic schemas, generated from `service.models.Note` by `pydantic_model_creator`.

The generator gives field types, limits and descriptions from the model; this module adds
what the SPEC asks beyond them, once, for every variant: strict types (no coercion), no
unknown fields, the text rules, and no `null`. (Lone surrogates never get this far:
pydantic refuses them as `string_unicode`.) The variants:

- `NoteRead`: a stored note, as responses return it.
- `NoteCreate`: POST body, `text` required, `completed` defaults to false.
- `NoteReplace`: PUT body, both fields required.
- `NotePatch`: PATCH body, any subset of the fields; `{}` is valid and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, StrictBool, TypeAdapter, field_validator
from pydantic_core import PydanticCustomError
from tortoise import Tortoise
from tortoise.contrib.pydantic import PydanticModel, pydantic_model_creator
from typing_extensions import TypedDict

from service.models import Note

Tortoise.init_models(["service.models"], "models", _init_relations=False)

WRITABLE_FIELDS = ("text", "completed")

# Exactly the characters `str.isspace()` counts (a test proves it), spelled for JSON Schema:
# its `\s` differs from Python's (U+001C..U+001F and U+0085 are space to Python, U+FEFF is not).
_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = rf"^[^\x00]*[^{_WHITESPACE}\x00][^\x00]*$"
"""What `text` must match, as documented: no NUL, at least one non-whitespace character."""


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "Text must not contain the NUL character (U+0000)")
    if not value or value.isspace():
        raise PydanticCustomError(
            "text_blank", "Text must contain at least one non-whitespace character"
        )
    return value


def _refuse_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("null_not_allowed", "This field may not be null")
    return value


def _document_write_schema(schema: dict[str, Any]) -> None:
    """Make the OpenAPI schema say what validation enforces: text rules, no nulls, no defaults
    on optional (PATCH) fields."""
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    for name, prop in properties.items():
        variants = prop.pop("anyOf", None)
        if variants is not None:
            prop.update(next(v for v in variants if v.get("type") != "null"))
            prop.pop("default", None)
        if name == "text":
            prop.update(minLength=1, pattern=TEXT_PATTERN)


_EXAMPLES: dict[str, dict[str, Any]] = {
    "NoteCreate": {"text": "Remember to learn async DB calls!", "completed": False},
    "NotePatch": {"completed": True},
    "NoteReplaceFields": {"text": "Learned async DB calls", "completed": True},
}


def _write_config(name: str) -> ConfigDict:
    def document(schema: dict[str, Any]) -> None:
        _document_write_schema(schema)
        schema["examples"] = [_EXAMPLES[name]]

    return ConfigDict(strict=True, extra="forbid", json_schema_extra=document)


_WRITE_VALIDATORS = {
    "refuse_null": field_validator(*WRITABLE_FIELDS, mode="before")(_refuse_null),
    "check_text": field_validator("text")(_check_text),
}


def _write_schema(name: str, *, optional: tuple[str, ...] = ()) -> type[PydanticModel]:
    return pydantic_model_creator(
        Note,
        name=name,
        include=WRITABLE_FIELDS,
        optional=optional,
        model_config=_write_config(name),
        validators=_WRITE_VALIDATORS,
    )


if TYPE_CHECKING:
    # What mypy sees: the shapes below are generated at run time (and a test checks they agree).
    class NoteRead(PydanticModel):
        id: int
        text: str
        completed: bool = False
        created_at: datetime
        updated_at: datetime
        version: int = 1

    class NoteCreate(PydanticModel):
        text: str
        completed: bool = False

    class NoteReplace(PydanticModel):
        text: str
        completed: bool

    class NotePatch(PydanticModel):
        text: str | None = None
        completed: bool | None = None

else:
    NoteRead = pydantic_model_creator(
        Note,
        name="Note",
        exclude=("owner",),  # who owns a note is the service's business, not the caller's
        model_config=ConfigDict(
            json_schema_serialization_defaults_required=True,
            json_schema_extra={
                "examples": [
                    {
                        "id": 17,
                        "text": "Remember to learn async DB calls!",
                        "completed": False,
                        "created_at": "2026-11-22T10:00:00.123456Z",
                        "updated_at": "2026-11-22T10:00:00.123456Z",
                        "version": 1,
                    }
                ]
            },
        ),
    )
    NoteCreate = _write_schema("NoteCreate")
    NotePatch = _write_schema("NotePatch", optional=WRITABLE_FIELDS)

    class NoteReplace(_write_schema("NoteReplaceFields")):
        """Full replacement: the generated fields, with `completed` required too."""

        model_config = ConfigDict(title="NoteReplace")
        completed: StrictBool


def _row_type() -> Any:
    """`NoteRead`'s fields as a TypedDict: a note as a database row (a dict) validates and
    serializes in one pydantic pass, without a model instance (nor the Python validator that
    Tortoise's schema base class runs for each). Extra keys (`owner`) are ignored."""
    make_typed_dict: Any = TypedDict
    fields = {name: field.annotation for name, field in NoteRead.model_fields.items()}
    return make_typed_dict("NoteRow", fields)


_NoteRow = _row_type()
NOTE_ROW: TypeAdapter[dict[str, Any]] = TypeAdapter(_NoteRow)
"""One note as a row: what a create answers (`service.notes.create_note_row`)."""
NOTE_ROWS: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[_NoteRow])  # type: ignore[valid-type]
"""Lists of notes as rows: a page validates and serializes in one pass each."""
