"""Memoized parameter inspection for FastAPI's per-request dependency solving.

For every declared path, query or header parameter of every request, FastAPI 0.165 asks
again whether the parameter is a model (`_get_param_model`), whether its annotation is a
sequence (`field_annotation_is_sequence`, which walks the `typing` objects), which names it
may arrive under (`_get_param_aliases`) and whether it is `Json` (`_is_json_field`):
questions about the route's declarations, whose answers never change while the process
runs. They are about a quarter of solving a route's inputs (docs/performance.md).
`remember_parameter_kinds()` makes FastAPI ask each question once per parameter, so the
routes keep their declared inputs at a lower price. The answers are the functions' own;
tests/internals/test_fastapi_params.py pins the names this replaces and checks the answers
against FastAPI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import fastapi.dependencies.utils as solving

Answer = TypeVar("Answer")
REPLACED = (
    "_get_param_model",
    "field_annotation_is_sequence",
    "_get_param_aliases",
    "_is_json_field",
)


def _remembered(ask: Callable[..., Answer]) -> Callable[..., Answer]:
    # Keyed by the object's identity, which it keeps alive: declarations are not all hashable.
    answers: dict[int, tuple[Any, Answer]] = {}

    def remembered(subject: Any, **options: Any) -> Answer:
        if options:  # asked another question about it (e.g. header names with underscores)
            return ask(subject, **options)
        known = answers.get(id(subject))
        if known is not None and known[0] is subject:
            return known[1]
        answer = ask(subject)
        answers[id(subject)] = (subject, answer)
        return answer

    remembered.__wrapped__ = ask  # type: ignore[attr-defined]
    return remembered


def remember_parameter_kinds() -> None:
    """Install the memoized inspections in FastAPI's solver (once; later calls do nothing)."""
    for name in REPLACED:
        current = getattr(solving, name)
        if not hasattr(current, "__wrapped__"):
            setattr(solving, name, _remembered(current))
