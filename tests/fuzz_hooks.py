"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by tests/test_fuzzing.py): put
control characters, NUL included, into the generated query strings and headers.

Left to itself, schemathesis rarely draws them in a bounded run, which is how `q=%00` (a
500 on PostgreSQL) once slipped through. Query values get any C0 control, DEL, or a Unicode
line/format character; header values only those a real HTTP server lets through to the
application (TAB and obs-text bytes: uvicorn refuses NUL, CR and LF in a header itself).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

QUERY_CHARACTERS = st.one_of(
    st.just("\x00"),  # the one PostgreSQL cannot take: drawn as often as all the others
    st.characters(min_codepoint=1, max_codepoint=0x1F)
    | st.sampled_from(["\x7f", "\x85", "\u2028", "\ufeff"]),
)
HEADER_CHARACTERS = st.one_of(st.just("\t"), st.characters(min_codepoint=0x80, max_codepoint=0xFF))
# Set by the client or the run, not generated: left as they are.
_KEPT_HEADERS = frozenset({"authorization", "content-type", "content-length", "user-agent"})


def _inserted(
    value: str, characters: st.SearchStrategy[str], first: int = 0
) -> st.SearchStrategy[str]:
    """`value` with 1 to 3 of `characters` inserted at one place, not before `first`."""
    if len(value) < first:
        return st.just(value)
    return st.tuples(
        st.integers(min_value=first, max_value=len(value)),
        st.text(characters, min_size=1, max_size=3),
    ).map(lambda drawn: value[: drawn[0]] + drawn[1] + value[drawn[0] :])


def _free_text(context: schemathesis.HookContext, location: str) -> set[str]:
    """The operation's parameters in `location` that take text (not an enum, a format or a
    constant): a control character there is worth trying, not just a value wrong anyway."""
    operation = context.operation
    raw = getattr(getattr(operation, "definition", None), "raw", None) or {}
    names = set()
    for parameter in raw.get("parameters", []):
        schema = parameter.get("schema", {})
        constrained = {"enum", "format", "const"}.intersection(schema)
        if parameter.get("in") == location and schema.get("type") == "string" and not constrained:
            names.add(parameter["name"].lower())
    return names


def _with_control_characters(
    container: dict[str, Any] | None,
    characters: st.SearchStrategy[str],
    names: set[str],
    first: int = 0,
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Each free-text value, independently, as generated or with control characters in it;
    a free-text parameter left out may come back holding some (query strings only)."""
    if not isinstance(container, dict):
        return st.just(container)
    given = {
        name: (
            st.one_of(st.just(value), _inserted(value, characters, first))
            if isinstance(value, str) and name.lower() in names
            else st.just(value)
        )
        for name, value in container.items()
    }
    missing = {} if first else {name: _inserted("", characters) for name in names - set(given)}
    return st.fixed_dictionaries(given, optional=missing)


@schemathesis.hook
def flatmap_query(
    context: schemathesis.HookContext, query: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    return _with_control_characters(query, QUERY_CHARACTERS, _free_text(context, "query"))


@schemathesis.hook
def flatmap_headers(
    context: schemathesis.HookContext, headers: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    names = _free_text(context, "header") - _KEPT_HEADERS
    # Not first: HTTP clients refuse a header value that starts with whitespace.
    return _with_control_characters(headers, HEADER_CHARACTERS, names, first=1)
