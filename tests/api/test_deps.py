"""The routes' declared inputs: documented as read, solved without a thread hop, and
validated together."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from service.api.deps import current_client
from service.api.routes import docs, health, notes
from tests.factories import assert_problem, create_note


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
            ("query", name)
            for name in ("limit", "after", "order", "completed", "q", "search", "after_rank")
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


async def test_one_422_lists_a_bad_body_and_a_bad_id_together(client: httpx.AsyncClient) -> None:
    response = await client.patch("/notes/0", json={"completed": "yes"})

    body = assert_problem(response, 422, "validation-error")
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert locations == {("path", "note_id"), ("body", "completed")}


async def test_if_match_field_lines_count_together(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    lines = [("If-Match", '"7"'), ("If-Match", '"1"')]  # the second names the current version

    response = await client.patch(f"/notes/{note['id']}", json={"completed": True}, headers=lines)

    assert response.status_code == 200
    assert response.json()["version"] == 2
    conditional = [("If-None-Match", '"9"'), ("If-None-Match", '"2"')]
    assert (await client.get(f"/notes/{note['id']}", headers=conditional)).status_code == 304


async def test_of_several_idempotency_key_lines_the_first_counts(
    client: httpx.AsyncClient,
) -> None:
    body = {"text": "once"}
    first = await client.post("/notes", json=body, headers=[("Idempotency-Key", "a")])
    again = await client.post(
        "/notes", json=body, headers=[("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()  # replayed: the key was "a"
    listed = await client.get("/notes")
    assert [note["text"] for note in listed.json()] == ["once"]


async def test_dependency_overrides_reach_the_declared_inputs(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def another_client() -> str:
        return "override"

    app.dependency_overrides[current_client] = another_client
    try:
        note = await create_note(client, text="the override's")
        assert (await client.get(f"/notes/{note['id']}")).status_code == 200
    finally:
        app.dependency_overrides.clear()
    assert (await client.get(f"/notes/{note['id']}")).status_code == 404  # not anonymous's
