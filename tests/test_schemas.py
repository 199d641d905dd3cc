"""The generated schemas validate exactly as the SPEC says."""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from service import schemas
from service.schemas import NoteCreate, NotePatch, NoteRead, NoteReplace


def error_types(model: type[BaseModel], data: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [error["type"] for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "text_blank"),
        (" \t\n\u00a0\u2003", "text_blank"),
        ("a\x00b", "text_nul"),
        ("a\ud800b", "string_unicode"),
        ("\udfff", "string_unicode"),
        ("x" * 10_001, "string_too_long"),
    ],
    ids=["empty", "whitespace", "nul", "high-surrogate", "low-surrogate", "too-long"],
)
@pytest.mark.parametrize("model", [NoteCreate, NoteReplace, NotePatch])
def test_text_rules_hold_for_every_write_schema(
    model: type[BaseModel], text: str, error: str
) -> None:
    assert error_types(model, {"text": text, "completed": False}) == [error]


@pytest.mark.parametrize("text", ["x", " x ", "🎉" * 10_000, "line\nbreak"])
def test_valid_text_is_kept_exactly(text: str) -> None:
    assert NoteCreate.model_validate({"text": text}).model_dump()["text"] == text


@pytest.mark.parametrize(
    "data",
    [
        {"text": "t", "completed": "true"},
        {"text": "t", "completed": 1},
        {"text": 5},
        {"text": ["t"]},
    ],
)
def test_types_are_not_coerced(data: dict[str, Any]) -> None:
    assert error_types(NoteCreate, data)


@pytest.mark.parametrize("field", ["id", "version", "created_at", "updated_at", "owner", "extra"])
@pytest.mark.parametrize("model", [NoteCreate, NoteReplace, NotePatch])
def test_unknown_and_read_only_fields_are_refused(model: type[BaseModel], field: str) -> None:
    data = {"text": "t", "completed": True, field: 1}
    assert error_types(model, data) == ["extra_forbidden"]


@pytest.mark.parametrize("model", [NoteCreate, NoteReplace, NotePatch])
@pytest.mark.parametrize("field", ["text", "completed"])
def test_null_is_never_valid(model: type[BaseModel], field: str) -> None:
    data: dict[str, Any] = {"text": "t", "completed": False, field: None}
    assert "null_not_allowed" in error_types(model, data)


def test_create_requires_text_and_defaults_completed() -> None:
    assert error_types(NoteCreate, {"completed": True}) == ["missing"]
    assert NoteCreate.model_validate({"text": "t"}).model_dump() == {
        "text": "t",
        "completed": False,
    }


def test_replace_requires_both_fields() -> None:
    assert error_types(NoteReplace, {"text": "t"}) == ["missing"]
    assert error_types(NoteReplace, {"completed": True}) == ["missing"]


def test_patch_keeps_only_what_was_sent() -> None:
    assert NotePatch.model_validate({}).model_dump(exclude_unset=True) == {}
    patch = NotePatch.model_validate({"completed": True})
    assert patch.model_dump(exclude_unset=True) == {"completed": True}


def test_documented_write_schemas_say_what_validation_enforces() -> None:
    for model in (NoteCreate, NoteReplace, NotePatch):
        properties = model.model_json_schema()["properties"]
        assert properties["text"]["minLength"] == 1
        assert properties["text"]["maxLength"] == 10_000
        assert properties["text"]["type"] == "string"
        assert properties["completed"]["type"] == "boolean"
        assert model.model_json_schema()["additionalProperties"] is False
    assert "required" not in NotePatch.model_json_schema()
    assert sorted(NoteReplace.model_json_schema()["required"]) == ["completed", "text"]


def test_read_schema_requires_every_field_in_responses() -> None:
    schema = NoteRead.model_json_schema(mode="serialization")
    assert sorted(schema["required"]) == sorted(NoteRead.model_fields)


@pytest.mark.parametrize("name", ["NoteRead", "NoteCreate", "NoteReplace", "NotePatch"])
def test_typed_stubs_match_the_generated_schemas(name: str) -> None:
    """schemas.py declares the generated shapes for mypy; they must not drift apart."""
    tree = ast.parse(inspect.getsource(schemas))
    stub = next(
        node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == name
    )
    stub_fields = {
        node.target.id
        for node in stub.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    generated: type[BaseModel] = getattr(schemas, name)
    assert stub_fields == set(generated.model_fields)
    for field_name in stub_fields:
        required_in_stub = next(
            node.value is None
            for node in stub.body
            if isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == field_name
        )
        assert generated.model_fields[field_name].is_required() == required_in_stub


WHITESPACE = [chr(code) for code in range(0x110000) if chr(code).isspace()]
LOOKALIKES = ["\ufeff", "\u200b", "\u180e", "\u2060", "x", "\x1b", "\u00ad"]


@pytest.mark.parametrize("char", WHITESPACE + LOOKALIKES, ids=lambda c: f"U+{ord(c):04X}")
def test_the_documented_text_pattern_agrees_with_validation(char: str) -> None:
    """Regression (schemathesis, negative_data_rejection): the documented pattern was `\\S`,
    JSON Schema's whitespace, which differs from Python's: "\\x1d" matched it yet was refused
    as blank, and "\\ufeff" did not match it yet was accepted."""
    pattern = NoteCreate.model_json_schema()["properties"]["text"]["pattern"]
    for text in (char, char * 3, f"{char}a{char}", f"a\x00{char}"):
        documented_valid = re.search(pattern, text) is not None
        try:
            NoteCreate.model_validate({"text": text})
            valid = True
        except ValidationError:
            valid = False
        assert documented_valid == valid, repr(text)
