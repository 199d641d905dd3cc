"""Dependencies: none of them runs in FastAPI's thread pool."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

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


def test_notes_routes_read_their_parameters_themselves() -> None:
    """FastAPI re-inspects declared dependencies and path, query and header parameters on
    every request (service.api.deps): the notes routes declare only the request and a body."""
    routes = [route for route in _notes_router().routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        dependant = route.dependant
        declared = [
            *dependant.dependencies,
            *dependant.path_params,
            *dependant.query_params,
            *dependant.header_params,
            *dependant.cookie_params,
        ]
        assert declared == [], (route.path, route.methods, declared)
