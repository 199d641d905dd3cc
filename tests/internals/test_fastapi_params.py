"""The memoized parameter inspection answers as FastAPI's own, and solves requests alike."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import fastapi.dependencies.utils as solving
import pytest
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute

from service.internals.fastapi_params import REPLACED, remember_parameter_kinds


def test_the_functions_it_replaces_are_fastapis() -> None:
    remember_parameter_kinds()
    remember_parameter_kinds()  # a second app in the same process: no second layer
    for name in REPLACED:
        remembered = getattr(solving, name)
        original = remembered.__wrapped__
        assert callable(original)
        assert not hasattr(original, "__wrapped__"), name
        assert original.__module__.startswith("fastapi."), name


def declared_fields(app: FastAPI) -> list[Any]:
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    fields = []
    for route in routes:
        dependants = [route.dependant]
        while dependants:
            dependant = dependants.pop()
            fields += [*dependant.path_params, *dependant.query_params, *dependant.header_params]
            dependants += dependant.dependencies
    return fields


def test_it_answers_as_fastapi_does_for_every_declared_parameter(app: FastAPI) -> None:
    fields = declared_fields(app)
    assert len(fields) >= 10
    for field in fields:
        for name, subject in (
            ("_get_param_model", field),
            ("field_annotation_is_sequence", field.field_info.annotation),
            ("_get_param_aliases", field),
            ("_is_json_field", field),
        ):
            remembered = getattr(solving, name)
            assert remembered(subject) == remembered.__wrapped__(subject), (name, field.name)


REQUESTS = [
    ("GET", "/notes/{note_id}", {"note_id": "3"}, b"", [(b"if-none-match", b'"1"')]),
    ("GET", "/notes/{note_id}", {"note_id": "0"}, b"", []),
    ("PATCH", "/notes/{note_id}", {"note_id": "x"}, b"", [(b"if-match", b'"1", "2"')]),
    ("DELETE", "/notes/{note_id}", {"note_id": "9"}, b"", [(b"if-match", b"*")]),
    ("GET", "/notes", {}, b"limit=50&after=10&order=desc&completed=true&q=milk", []),
    ("GET", "/notes", {}, b"limit=0&after=-1&order=up&completed=yes", []),
    ("POST", "/notes", {}, b"", [(b"idempotency-key", b"k\x01")]),
]


async def solve(app: FastAPI, method: str, path: str, *parts: Any) -> tuple[Any, Any]:
    path_params, query, headers = parts
    (route,) = (
        r
        for r in app.routes
        if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ())
    )
    async with AsyncExitStack() as stack:
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [(b"host", b"test"), *headers],
            "query_string": query,
            "path_params": path_params,
            "state": {"client": "anonymous"},
            "app": app,
            "fastapi_inner_astack": stack,
            "fastapi_function_astack": stack,
        }
        solved = await solving.solve_dependencies(
            request=Request(scope),
            dependant=route.dependant,
            body={"text": "a note", "completed": False},
            async_exit_stack=stack,
            embed_body_fields=False,
        )
    errors = [{key: error[key] for key in ("loc", "type")} for error in solved.errors]
    values = {name: value for name, value in solved.values.items() if name != "request"}
    return values, errors


@pytest.mark.parametrize(("method", "path", "path_params", "query", "headers"), REQUESTS)
async def test_requests_are_solved_as_without_it(
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    path_params: dict[str, str],
    query: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    remembered = await solve(app, method, path, path_params, query, headers)
    for name in REPLACED:
        monkeypatch.setattr(solving, name, getattr(solving, name).__wrapped__)
    original = await solve(app, method, path, path_params, query, headers)

    assert remembered == original


def test_a_question_with_options_is_asked_again(app: FastAPI) -> None:
    remember_parameter_kinds()
    (field, *_) = [f for f in declared_fields(app) if f.field_info.in_.value == "header"]
    aliases: Any = solving._get_param_aliases
    assert aliases(field) == aliases.__wrapped__(field)
    converted = aliases(field, convert_underscores=True)
    assert converted == aliases.__wrapped__(field, convert_underscores=True)
