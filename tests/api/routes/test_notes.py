"""The /notes endpoints through the app with its lifespan, on the session's backend."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from tests.factories import assert_problem, create_note

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


async def test_create_answers_201_with_the_note_location_and_etag(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/notes", json={"text": "Buy milk", "completed": True})

    assert response.status_code == 201
    note = response.json()
    assert set(note) == {"id", "text", "completed", "created_at", "updated_at", "version"}
    assert note["text"] == "Buy milk"
    assert note["completed"] is True
    assert note["version"] == 1
    assert response.headers["location"] == f"/notes/{note['id']}"
    assert response.headers["etag"] == '"1"'
    assert ISO_UTC.match(note["created_at"])
    assert note["created_at"] == note["updated_at"]


async def test_create_defaults_completed_to_false(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes/", json={"text": "x"})
    assert response.status_code == 201
    assert response.json()["completed"] is False


async def test_ids_increase_in_creation_order_and_are_never_reused(
    client: httpx.AsyncClient,
) -> None:
    first = await create_note(client)
    second = await create_note(client)
    assert second["id"] > first["id"]
    await client.delete(f"/notes/{second['id']}")
    third = await create_note(client)
    assert third["id"] > second["id"]


@pytest.mark.parametrize(
    "text",
    [
        "  padded, tabs\tand\nnewlines  ",
        "émoji 🎉 and 中文 and combining e\u0301",
        "x" * 10_000,
        "🎉" * 10_000,
        "%_\\ like wildcards",
    ],
    ids=["whitespace", "unicode", "max-ascii", "max-astral", "wildcards"],
)
async def test_text_is_stored_and_returned_exactly_as_sent(
    client: httpx.AsyncClient, text: str
) -> None:
    note = await create_note(client, text=text)
    fetched = (await client.get(f"/notes/{note['id']}")).json()
    assert fetched["text"] == text == note["text"]


async def test_tutorial_flow_post_then_list_with_trailing_slashes(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/notes/", json={"text": "Tutorial note", "completed": False})
    listed = await client.get("/notes/")

    assert created.status_code == 201
    assert listed.status_code == 200
    assert created.json() in listed.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/notes"), ("GET", "/notes/"), ("GET", "/notes/{id}"), ("GET", "/notes/{id}/")],
)
async def test_both_slash_forms_are_served_without_redirect(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    note = await create_note(client)
    response = await client.request(method, path.format(id=note["id"]))
    assert response.status_code == 200


async def test_get_returns_the_note_with_its_etag(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    response = await client.get(f"/notes/{note['id']}")
    assert response.status_code == 200
    assert response.json() == note
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("header", ['"1"', '"7", "1"', "*", 'W/"1"'])
async def test_if_none_match_with_the_current_etag_is_304(
    client: httpx.AsyncClient, header: str
) -> None:
    note = await create_note(client)
    response = await client.get(f"/notes/{note['id']}", headers={"If-None-Match": header})
    assert response.status_code == 304
    assert response.headers["etag"] == '"1"'
    assert response.content == b""


async def test_if_none_match_with_an_old_etag_returns_the_note(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"completed": True})
    response = await client.get(f"/notes/{note['id']}", headers={"If-None-Match": '"1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'


async def test_missing_note_is_404_on_every_method(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    await client.delete(f"/notes/{note['id']}")
    path = f"/notes/{note['id']}"
    for response in [
        await client.get(path),
        await client.patch(path, json={"completed": True}),
        await client.put(path, json={"text": "t", "completed": True}),
        await client.delete(path),
        await client.delete(path, headers={"If-Match": '"1"'}),
    ]:
        assert_problem(response, 404, "not-found")


async def test_patch_changes_only_the_given_fields_and_bumps_the_version(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client, text="before")
    response = await client.patch(f"/notes/{note['id']}", json={"completed": True})

    assert response.status_code == 200
    changed = response.json()
    assert changed["text"] == "before"
    assert changed["completed"] is True
    assert changed["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert changed["created_at"] == note["created_at"]
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(
        note["updated_at"]
    )


@pytest.mark.parametrize("body", [{}, {"text": "same"}, {"text": "same", "completed": False}])
async def test_a_write_that_changes_nothing_keeps_the_version(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    note = await create_note(client, text="same")
    response = await client.patch(f"/notes/{note['id']}", json=body)
    assert response.status_code == 200
    assert response.json() == note
    assert response.headers["etag"] == '"1"'


async def test_put_replaces_both_fields(client: httpx.AsyncClient) -> None:
    note = await create_note(client, text="old")
    response = await client.put(f"/notes/{note['id']}", json={"text": "new", "completed": True})
    assert response.status_code == 200
    assert response.json()["text"] == "new"
    assert response.json()["completed"] is True
    assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize("body", [{"text": "only text"}, {"completed": True}, {}])
async def test_put_requires_both_fields(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    note = await create_note(client)
    problem = assert_problem(
        await client.put(f"/notes/{note['id']}", json=body), 422, "validation-error"
    )
    assert all(error["type"] == "missing" for error in problem["errors"])
    assert (await client.get(f"/notes/{note['id']}")).json() == note


async def test_delete_answers_204_and_the_note_is_gone(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    response = await client.delete(f"/notes/{note['id']}/")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/notes/{note['id']}")).status_code == 404


async def test_method_not_allowed_is_405_with_allow(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    for method, path, allowed in [
        ("PUT", "/notes", {"GET", "POST"}),
        ("DELETE", "/notes/", {"GET", "POST"}),
        ("POST", f"/notes/{note['id']}", {"GET", "PATCH", "PUT", "DELETE"}),
    ]:
        response = await client.request(method, path)
        assert_problem(response, 405, "method-not-allowed")
        assert set(response.headers["allow"].replace(" ", "").split(",")) >= allowed


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nothing/here"), 404, "not-found")
