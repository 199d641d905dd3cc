"""Dependencies: none of them runs in FastAPI's thread pool."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from service.api.routes import docs, health, notes


def dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from dependencies(sub)


def _notes_router() -> APIRouter:
    app = FastAPI()
    notes.install_routes(app)
    return app.router


@pytest.mark.parametrize("router", [_notes_router(), health.router, docs.router])
def test_every_dependency_is_a_coroutine(router: APIRouter) -> None:
    """A plain `def` dependency or endpoint would cost a thread hop on every request."""
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        for dependant in [route.dependant, *dependencies(route.dependant)]:
            call = dependant.call
            assert call is None or inspect.iscoroutinefunction(call), (route.path, call)


def read_parameters(dependant: Dependant) -> set[tuple[str, str]]:
    """(location, name) of every parameter a route's dependency tree reads from a request,
    with the fields of a query model spelled out, as FastAPI reads them."""
    read: set[tuple[str, str]] = set()
    for each in [dependant, *dependencies(dependant)]:
        for location, fields in (
            ("path", each.path_params),
            ("query", each.query_params),
            ("header", each.header_params),
        ):
            for field in fields:
                model = field.field_info.annotation
                if isinstance(model, type) and issubclass(model, BaseModel):
                    read |= {(location, name) for name in model.model_fields}
                else:
                    read.add((location, field.alias))
    return read


def test_the_documented_parameters_are_exactly_those_the_routes_read(app: FastAPI) -> None:
    """The OpenAPI document is generated from the routes' declared inputs: nothing a route
    reads goes undocumented, and nothing documented goes unread."""
    document = app.openapi()
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    documented_routes = [route for route in routes if route.include_in_schema]
    assert len(documented_routes) >= 6
    for route in documented_routes:
        (method,) = sorted(route.methods or ())
        operation = document["paths"][route.path][method.lower()]
        documented = {
            (parameter["in"], parameter["name"])
            for parameter in operation.get("parameters", [])
            if parameter["name"] != "X-Request-ID"  # read by the telemetry middleware
        }
        assert documented == read_parameters(route.dependant), (method, route.path)


def test_the_notes_routes_declare_what_they_take() -> None:
    """Each notes route's signature names its inputs: no route reads the raw request for a
    parameter, so a new one cannot go undocumented or unvalidated."""
    expected = {
        ("POST", "/notes"): {("header", "idempotency-key")},
        ("GET", "/notes"): {
            ("query", name) for name in ("limit", "after", "order", "completed", "q")
        },
        ("GET", "/notes/{note_id}"): {("path", "note_id"), ("header", "if-none-match")},
        ("PATCH", "/notes/{note_id}"): {("path", "note_id"), ("header", "if-match")},
        ("PUT", "/notes/{note_id}"): {("path", "note_id"), ("header", "if-match")},
        ("DELETE", "/notes/{note_id}"): {("path", "note_id"), ("header", "if-match")},
    }
    routes = [route for route in _notes_router().routes if isinstance(route, APIRoute)]
    read = {
        (method, route.path): read_parameters(route.dependant)
        for route in routes
        if route.include_in_schema
        for method in route.methods or ()
    }
    assert read == expected
