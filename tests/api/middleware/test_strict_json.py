"""`check_json_body` on its own: which error wins when a body has several faults, and that
the depth measured on a parsed document agrees with the depth of its text."""

from __future__ import annotations

import pytest

from service.api.middleware.strict_json import MAX_DEPTH, MalformedJson, check_json_body


def error_of(body: bytes) -> str | None:
    try:
        check_json_body(body)
    except MalformedJson as exc:
        return exc.error_type
    return None


def nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "Remember to learn async DB calls!", "completed": false}',
        b'{"text": "a", "nested": {"text": "b"}, "list": [{"text": "c"}, {"text": "c"}]}',
        nested(MAX_DEPTH),
        b"[" + b"0, " * 20 + nested(MAX_DEPTH - 1) + b"]",
        b"[" + b"0, " * 1_000 + b"0]",
        b'{"a": ' * (MAX_DEPTH - 1) + b"[]" + b"}" * (MAX_DEPTH - 1),
        b'{"text": "' + b"[{" * 100 + b'\\""}',
        b"[]",
        b"  1  ",
    ],
)
def test_well_formed_bodies_pass(body: bytes) -> None:
    assert error_of(body) is None


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        (nested(MAX_DEPTH + 1), "json_too_deep"),
        (b'{"a": ' * MAX_DEPTH + b"[]" + b"}" * MAX_DEPTH, "json_too_deep"),
        (b'[1, {"a": [' + nested(MAX_DEPTH - 2) + b"]}]", "json_too_deep"),
        (b"[" + b"0, " * 20 + nested(MAX_DEPTH) + b"]", "json_too_deep"),
        (
            b"{" + b"".join(b'"k%d": 0, ' % i for i in range(20)) + b'"z": ' + nested(32) + b"}",
            "json_too_deep",
        ),
        (b'{"a": {"b": 1, "b": 2}}', "json_duplicate_key"),
        (b'[{"a": 1}, [{"a": 1, "b": [], "a": 2}]]', "json_duplicate_key"),
        (b'{"a": [1, NaN]}', "json_invalid"),
        (b'{"text": "t"} {}', "json_invalid"),
        (b'{"text": "t"', "json_invalid"),
        (b"[" + b"9" * 5_000 + b"]", "json_invalid"),
        (b'"\xff"', "json_invalid"),
    ],
)
def test_each_fault_is_its_error(body: bytes, error_type: str) -> None:
    assert error_of(body) == error_type


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        # Too deep wins over any fault of the parse...
        (nested(MAX_DEPTH + 1, b'{"a": 1, "a": 2}'), "json_too_deep"),
        (nested(MAX_DEPTH + 1, b"NaN"), "json_too_deep"),
        (nested(MAX_DEPTH + 1, b"1,"), "json_too_deep"),
        (b"[" * 30_000, "json_too_deep"),
        # ...and not valid UTF-8 over everything.
        (nested(MAX_DEPTH + 1, b'"\xff"'), "json_invalid"),
        # Within the depth: the parse's first fault, in document order.
        (b'[{"a": 1, "a": 2}, NaN]', "json_duplicate_key"),
        (b'[NaN, {"a": 1, "a": 2}]', "json_invalid"),
        (b'{"a": 1, "a": 2} x', "json_duplicate_key"),
    ],
)
def test_the_first_fault_wins(body: bytes, error_type: str) -> None:
    assert error_of(body) == error_type


def test_the_message_names_the_duplicate_key() -> None:
    with pytest.raises(MalformedJson) as caught:
        check_json_body(b'{"text": "a", "text": "b"}')
    assert caught.value.field_error() == {
        "loc": ["body"],
        "msg": "The key 'text' appears more than once",
        "type": "json_duplicate_key",
    }


def test_a_byte_order_mark_is_named() -> None:
    with pytest.raises(MalformedJson) as caught:
        check_json_body(b'\xef\xbb\xbf{"text": "t"}')
    assert caught.value.message == ("Malformed JSON: Unexpected UTF-8 BOM (decode using utf-8-sig)")
