"""GET /notes/changes through the app (with its lifespan) on both backends: what each write
records, paging with Link, long polling, validation, retention and the 410."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tortoise import connections

from service import changes
from tests.factories import assert_problem, create_note


async def feed(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/notes/changes", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: list[dict[str, Any]] = response.json()
    return body


async def test_each_write_is_one_change_with_the_note_as_written(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client, text="first")
    patched = (await client.patch(f"/notes/{note['id']}", json={"completed": True})).json()
    replaced = (
        await client.put(f"/notes/{note['id']}", json={"text": "second", "completed": True})
    ).json()
    assert (await client.delete(f"/notes/{note['id']}")).status_code == 204

    found = await feed(client)

    assert [(c["type"], c["version"]) for c in found] == [
        ("created", 1),
        ("updated", 2),
        ("updated", 3),
        ("deleted", 3),
    ]
    assert [c["note"] for c in found] == [note, patched, replaced, None]
    assert {c["note_id"] for c in found} == {note["id"]}
    seqs = [c["seq"] for c in found]
    assert seqs == sorted(set(seqs))
    assert found[0]["at"] == note["updated_at"]
    assert found[3]["at"].endswith("Z")


async def test_a_write_that_changes_nothing_records_nothing(client: httpx.AsyncClient) -> None:
    note = await create_note(client, text="same", completed=False)
    assert (await client.patch(f"/notes/{note['id']}", json={})).status_code == 200
    assert (await client.patch(f"/notes/{note['id']}", json={"text": "same"})).status_code == 200
    same = {"text": "same", "completed": False}
    assert (await client.put(f"/notes/{note['id']}", json=same)).status_code == 200

    assert [c["type"] for c in await feed(client)] == ["created"]


async def test_a_refused_write_records_nothing(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    mismatch = {"If-Match": '"7"'}
    assert (
        await client.patch(f"/notes/{note['id']}", json={"text": "x"}, headers=mismatch)
    ).status_code == 412
    assert (await client.delete(f"/notes/{note['id']}", headers=mismatch)).status_code == 412
    assert (await client.delete("/notes/999999")).status_code == 404

    assert [c["type"] for c in await feed(client)] == ["created"]


async def test_a_delete_with_a_matching_if_match_records_its_version(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"text": "v2"})
    deleted = await client.delete(f"/notes/{note['id']}", headers={"If-Match": '"1", "2"'})
    assert deleted.status_code == 204

    assert (await feed(client))[-1] | {"seq": 0, "at": ""} == {
        "seq": 0,
        "type": "deleted",
        "note_id": note["id"],
        "version": 2,
        "at": "",
        "note": None,
    }


async def test_concurrent_creates_with_one_idempotency_key_record_one_change(
    client: httpx.AsyncClient,
) -> None:
    # The losers insert a note and its change, then roll both back: no change is left behind.
    headers = {"Idempotency-Key": "one-key"}
    responses = await asyncio.gather(
        *(client.post("/notes", json={"text": "once"}, headers=headers) for _ in range(8))
    )
    assert {response.status_code for response in responses} == {201}

    found = await feed(client)
    assert [c["type"] for c in found] == ["created"]
    assert found[0]["note"] == responses[0].json()


async def test_link_continues_after_the_last_change_or_repeats_the_cursor(
    client: httpx.AsyncClient,
) -> None:
    for index in range(3):
        await create_note(client, text=f"note {index}")
    first = await client.get("/notes/changes", params={"limit": 2})
    seqs = [c["seq"] for c in first.json()]

    assert first.links["next"]["url"] == f"http://testserver/notes/changes?limit=2&after={seqs[-1]}"
    rest = await client.get(first.links["next"]["url"])
    assert [c["seq"] for c in rest.json()] == [seqs[-1] + 1]
    end = await client.get(rest.links["next"]["url"])
    assert end.json() == []
    assert end.links["next"]["url"] == rest.links["next"]["url"]


async def test_the_trailing_slash_form_serves_the_feed(client: httpx.AsyncClient) -> None:
    await create_note(client)
    response = await client.get("/notes/changes/")
    assert response.status_code == 200
    assert len(response.json()) == 1


async def test_a_long_poll_answers_as_soon_as_a_change_comes(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    waiting = asyncio.create_task(client.get("/notes/changes", params={"wait": 20}))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    note = await create_note(client)

    response = await waiting
    assert time.monotonic() - started < 5
    assert [c["note"] for c in response.json()] == [note]
    assert f"after={response.json()[0]['seq']}" in response.links["next"]["url"]


async def test_a_long_poll_with_nothing_to_say_answers_empty_after_wait(
    client: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    response = await client.get("/notes/changes", params={"wait": 0.5})
    assert response.status_code == 200
    assert response.json() == []
    assert 0.5 <= time.monotonic() - started < 5


@pytest.mark.parametrize(
    "params",
    [
        {"after": -1},
        {"after": 2**63},
        {"after": "x"},
        {"limit": 0},
        {"limit": 1001},
        {"wait": 61},
        {"wait": -1},
        {"wait": "soon"},
    ],
)
async def test_bad_parameters_are_a_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get("/notes/changes", params=params)
    body = assert_problem(response, 422, "validation-error")
    assert [error["loc"][:2] for error in body["errors"]] == [["query", next(iter(params))]]


async def test_a_bad_last_event_id_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/notes/changes", headers={"Accept": "text/event-stream", "Last-Event-ID": "abc"}
    )
    assert_problem(response, 422, "validation-error")


_AGE_SQL = {  # every change so far: ten days old
    "postgres": "UPDATE note_changes SET at = at - interval '10 days'",
    "sqlite": "UPDATE note_changes SET at = datetime(at, '-10 days')",
}


async def age_changes() -> None:
    db = connections.get("default")
    await db.execute_query(_AGE_SQL[db.capabilities.dialect], [])


async def test_a_cursor_older_than_retention_is_a_410_naming_where_to_resync(
    client: httpx.AsyncClient,
) -> None:
    notes = [await create_note(client, text=f"old {index}") for index in range(3)]
    assert len(await feed(client)) == 3  # read, so numbered: the purge deletes only those
    await age_changes()
    assert await changes.purge_expired(timedelta(hours=168)) == 3
    recent = await create_note(client, text="recent")

    expired = await client.get("/notes/changes", params={"after": 1})
    body = assert_problem(expired, 410, "cursor-expired")
    assert body["resync_after"] == 4
    assert "GET /notes" in body["detail"]
    assert "after=4" in body["detail"]
    # From the start (0 never expires) and from the last purged seq on, the feed serves.
    assert [c["note"] for c in await feed(client)] == [recent]
    assert [c["note"] for c in await feed(client, after=3)] == [recent]
    assert notes


async def test_the_purge_numbers_and_deletes_old_changes_no_reader_has_numbered_yet(
    client: httpx.AsyncClient,
) -> None:
    await create_note(client, text="never read")
    await create_note(client, text="never read either")
    await age_changes()
    assert await changes.purge_expired(timedelta(hours=168)) == 2
    recent = await create_note(client, text="recent")
    # Numbered 1 and 2 by the purge, then deleted: the next change is 3, and a cursor from
    # before them is told to resynchronise.
    assert [(c["seq"], c["note"]) for c in await feed(client)] == [(3, recent)]
    assert_problem(await client.get("/notes/changes", params={"after": 1}), 410, "cursor-expired")


async def test_the_purge_keeps_changes_within_retention(client: httpx.AsyncClient) -> None:
    await create_note(client)
    assert await changes.purge_expired(timedelta(hours=168)) == 0
    assert len(await feed(client)) == 1


async def test_the_openapi_documents_both_media_types_the_link_and_the_410(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/notes/changes"]["get"]
    assert "/notes/changes/" not in document["paths"]
    ok = operation["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/event-stream"}
    assert ok["content"]["text/event-stream"]["example"].startswith("event: updated")
    assert "Link" in ok["headers"]
    expired = operation["responses"]["410"]["content"]["application/problem+json"]
    assert expired["example"]["type"] == "/problems/cursor-expired"
    assert expired["example"]["resync_after"] == 41
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"after", "limit", "wait", "last-event-id"} <= set(parameters)
    assert parameters["limit"]["schema"]["maximum"] == 1000
    assert parameters["wait"]["schema"]["maximum"] == 60
    assert parameters["after"]["schema"]["maximum"] == 2**63 - 1
    change = document["components"]["schemas"]["ChangeRead"]
    assert change["examples"][0]["type"] == "updated"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_other_methods_on_the_feed_are_a_405_not_a_note_id(
    client: httpx.AsyncClient, method: str
) -> None:
    for path in ("/notes/changes", "/notes/changes/"):
        response = await client.request(method, path, json={"text": "x"})
        assert_problem(response, 405, "method-not-allowed")
        assert response.headers["allow"] == "GET"


async def test_metrics_count_followers_changes_served_and_lag(client: httpx.AsyncClient) -> None:
    def value(text: str, name: str) -> float:
        line = next(line for line in text.splitlines() if line.startswith(name + " "))
        return float(line.split()[1])

    before = (await client.get("/metrics")).text
    waiting = asyncio.create_task(client.get("/notes/changes", params={"wait": 10}))
    await asyncio.sleep(0.3)
    during = (await client.get("/metrics")).text
    await create_note(client)
    await waiting
    after = (await client.get("/metrics")).text

    assert value(during, "changes_followers_waiting") == 1
    assert value(after, "changes_followers_waiting") == 0
    assert value(after, "changes_served_total") == value(before, "changes_served_total") + 1
    assert value(after, "changes_feed_lag_seconds_count") == (
        value(before, "changes_feed_lag_seconds_count") + 1
    )
