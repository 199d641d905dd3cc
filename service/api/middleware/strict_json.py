"""What counts as a well-formed JSON body: stricter than `json.loads`, which the routes use after.

`json.loads` alone accepts things a careful API refuses, or fails in ways FastAPI turns into a
bare 400: bytes that are not UTF-8 (it guesses UTF-16/32 from the first bytes), a repeated key
(the last one silently wins: which text did the caller mean?), `NaN` and `Infinity` (not JSON),
integers longer than Python converts (ValueError), and nesting deep enough to exhaust the
recursion limit. Each of these is a 422 here, with one `errors` entry saying which.
"""

from __future__ import annotations

import json
from typing import Any

from service.errors import FieldErrorDict

MAX_DEPTH = 32  # a note body is one flat object; anything deeper is not a note


class MalformedJson(ValueError):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def field_error(self) -> FieldErrorDict:
        return {"loc": ["body"], "msg": self.message, "type": self.error_type}


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            shown = key[:100].encode("utf-8", "backslashreplace").decode("utf-8")
            raise MalformedJson("json_duplicate_key", f"The key {shown!r} appears more than once")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise MalformedJson("json_invalid", f"{name} is not a JSON value")


def _nesting_depth(text: str) -> int:
    """The deepest `[`/`{` nesting outside strings: how deep a text that failed to parse was."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


_CONTAINER_TYPES = frozenset((dict, list))  # what json.loads and the hook build


def _deeper_than(container: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether a parsed container nests more than `limit` levels (itself counts as one)."""
    if limit == 0:
        return True
    children = container.values() if isinstance(container, dict) else container
    if len(children) > 8 and _CONTAINER_TYPES.isdisjoint(map(type, children)):
        return False  # many scalars: checked in C (the loop below costs more per child)
    for child in children:
        if isinstance(child, (dict, list)) and _deeper_than(child, limit - 1):
            return True
    return False


# Built once: `json.loads` with hooks would build a decoder (and its scanner) per call, which
# costs more than parsing a note. The hooks run in C's parse; a flat note calls one, once.
_STRICT = json.JSONDecoder(object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)


def check_json_body(body: bytes) -> None:
    """Raise MalformedJson unless `body` is one well-formed JSON document, as UTF-8.

    Checked in this order, the first failure winning: UTF-8, then nesting depth (of the text,
    even when it does not parse), then the parse (duplicate keys, constants, range, syntax).
    The depth is measured on the parsed document when it parses (a note: one level, no scan of
    the text); only a text that failed to parse is scanned, to tell "too deep" first."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("json_invalid", "The body is not valid UTF-8") from None
    try:
        document = _STRICT.decode(text)
    except (ValueError, RecursionError) as exc:  # MalformedJson and JSONDecodeError included
        openers = text.count("[") + text.count("{")  # cheap: most bodies need no scan
        if openers > MAX_DEPTH and _nesting_depth(text) > MAX_DEPTH:
            raise _too_deep() from None  # e.g. the parse ran out of recursion
        raise _malformed(exc, text) from None
    if isinstance(document, (dict, list)) and _deeper_than(document, MAX_DEPTH):
        raise _too_deep()


def _too_deep() -> MalformedJson:
    return MalformedJson("json_too_deep", f"JSON nested more than {MAX_DEPTH} levels deep")


def _malformed(exc: ValueError | RecursionError, text: str) -> MalformedJson:
    if isinstance(exc, MalformedJson):
        return exc
    if isinstance(exc, json.JSONDecodeError):
        # What json.loads says of a byte order mark (the decoder itself does not check).
        bom = text.startswith("\ufeff")
        reason = "Unexpected UTF-8 BOM (decode using utf-8-sig)" if bom else exc.msg
        return MalformedJson("json_invalid", f"Malformed JSON: {reason}")
    # e.g. an integer with more digits than Python converts
    return MalformedJson("json_invalid", "A JSON value is out of range")
