"""Two clients on one service: each sees and changes only its own notes (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Keys
from tests.factories import assert_problem
from tests.servers import Server


@pytest.fixture
def alpha(keyed_server: Server, keys: Keys) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed_server.base_url, headers=keys.bearer(keys.alpha)) as api:
        yield api


@pytest.fixture
def beta(keyed_server: Server, keys: Keys) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed_server.base_url, headers=keys.bearer(keys.beta)) as api:
        yield api


def create(api: httpx.Client, text: str, **headers: str) -> dict[str, Any]:
    response = api.post("/notes", json={"text": text}, headers=headers)
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", None),
        ("PATCH", {"text": "taken over"}),
        ("PUT", {"text": "taken over", "completed": True}),
        ("DELETE", None),
    ],
)
@pytest.mark.parametrize("if_match", [None, '"1"', "*"])
def test_another_clients_note_is_a_404_and_stays_untouched(
    alpha: httpx.Client,
    beta: httpx.Client,
    method: str,
    body: dict[str, Any] | None,
    if_match: str | None,
) -> None:
    note = create(alpha, "alpha's secret")
    headers = {"If-Match": if_match} if if_match else {}

    response = beta.request(method, f"/notes/{note['id']}", json=body, headers=headers)

    problem = assert_problem(response, 404, "not-found")
    assert problem["detail"] == f"Note {note['id']} does not exist."  # no hint it exists
    assert alpha.get(f"/notes/{note['id']}").json() == note


def test_listings_and_searches_show_only_the_callers_notes(
    alpha: httpx.Client, beta: httpx.Client
) -> None:
    mine = [create(alpha, f"shared word {index}") for index in range(3)]
    theirs = [create(beta, f"shared word {index}") for index in range(2)]

    assert alpha.get("/notes").json() == mine
    assert beta.get("/notes").json() == theirs
    assert alpha.get("/notes", params={"q": "shared"}).json() == mine
    assert beta.get("/notes", params={"q": "word", "order": "desc"}).json() == theirs[::-1]
    assert beta.get("/notes", params={"completed": "false", "limit": 1}).json() == theirs[:1]
    after_theirs = beta.get("/notes", params={"after": theirs[0]["id"]}).json()
    assert after_theirs == theirs[1:]


def test_pages_follow_only_the_callers_notes(alpha: httpx.Client, beta: httpx.Client) -> None:
    for index in range(3):
        create(alpha, f"a{index}")
        create(beta, f"b{index}")

    first = beta.get("/notes", params={"limit": 2})
    second = beta.get(first.links["next"]["url"])

    texts = [note["text"] for note in first.json() + second.json()]
    assert texts == ["b0", "b1", "b2"]
    assert "next" not in second.links


def test_idempotency_keys_belong_to_the_client_that_sent_them(
    alpha: httpx.Client, beta: httpx.Client
) -> None:
    alphas = create(alpha, "same body", **{"Idempotency-Key": "shared-key"})

    betas = create(beta, "same body", **{"Idempotency-Key": "shared-key"})
    other_body = beta.post(
        "/notes", json={"text": "another body"}, headers={"Idempotency-Key": "alpha-only"}
    )
    alpha.post("/notes", json={"text": "x"}, headers={"Idempotency-Key": "alpha-only"})

    assert betas["id"] != alphas["id"]
    assert other_body.status_code == 201
    assert beta.get(f"/notes/{alphas['id']}").status_code == 404
    replay = alpha.post(
        "/notes", json={"text": "same body"}, headers={"Idempotency-Key": "shared-key"}
    )
    assert replay.json() == alphas


def test_notes_made_while_authentication_was_off_belong_to_no_client(
    live_server: Server, alpha: httpx.Client, beta: httpx.Client
) -> None:
    anonymous = httpx.post(live_server.base_url + "/notes", json={"text": "before keys"}).json()

    assert alpha.get(f"/notes/{anonymous['id']}").status_code == 404
    assert beta.get("/notes").json() == []
    assert httpx.get(live_server.base_url + "/notes").json() == [anonymous]
