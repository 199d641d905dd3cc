"""GET /notes: pagination, ordering, filters and search."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import assert_problem, create_note


def next_link(response: httpx.Response) -> str | None:
    link: str | None = response.headers.get("link")
    if link is None:
        return None
    url, rel = link.split(";", 1)
    assert rel.strip() == 'rel="next"'
    return url.strip()[1:-1]


async def test_list_is_an_array_in_id_order(client: httpx.AsyncClient) -> None:
    ids = [(await create_note(client, text=f"n{i}"))["id"] for i in range(3)]
    response = await client.get("/notes")
    assert response.status_code == 200
    assert [note["id"] for note in response.json()] == ids
    assert "link" not in response.headers


async def test_empty_list(client: httpx.AsyncClient) -> None:
    response = await client.get("/notes")
    assert response.json() == []
    assert "link" not in response.headers


async def test_pages_follow_the_link_header_to_the_end(client: httpx.AsyncClient) -> None:
    ids = [(await create_note(client, text=f"n{i}"))["id"] for i in range(7)]
    seen: list[int] = []
    url: str | None = "/notes?limit=3"
    pages = 0
    while url is not None:
        response = await client.get(url)
        seen += [note["id"] for note in response.json()]
        url = next_link(response)
        pages += 1
    assert seen == ids
    assert pages == 3


async def test_link_is_absolute_and_keeps_the_other_parameters(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await create_note(client, text=f"keep {i}", completed=True)
    response = await client.get("/notes", params={"limit": 2, "completed": "true", "q": "keep"})
    link = next_link(response)
    assert link is not None
    assert link.startswith("http://testserver/notes?")
    follow = httpx.URL(link).params
    assert follow["limit"] == "2"
    assert follow["completed"] == "true"
    assert follow["q"] == "keep"
    assert follow["after"] == str(response.json()[-1]["id"])


async def test_no_link_when_the_last_page_is_exactly_full(client: httpx.AsyncClient) -> None:
    for i in range(4):
        await create_note(client, text=f"n{i}")
    first = await client.get("/notes?limit=2")
    second_url = next_link(first)
    assert second_url is not None
    second = await client.get(second_url)
    assert len(second.json()) == 2
    assert next_link(second) is None


async def test_descending_order_and_after(client: httpx.AsyncClient) -> None:
    ids = [(await create_note(client, text=f"n{i}"))["id"] for i in range(5)]
    response = await client.get("/notes", params={"order": "desc", "limit": 2})
    assert [n["id"] for n in response.json()] == ids[::-1][:2]
    following = await client.get(next_link(response) or "")
    assert [n["id"] for n in following.json()] == ids[::-1][2:4]
    after = await client.get("/notes", params={"after": ids[1]})
    assert [n["id"] for n in after.json()] == ids[2:]


async def test_every_combination_of_order_filter_and_cursor(client: httpx.AsyncClient) -> None:
    """Each combination is its own prepared query: each must select what it says."""
    created = [await create_note(client, text=f"n{i}", completed=i % 3 == 0) for i in range(9)]
    middle = created[4]["id"]
    for order in ("asc", "desc"):
        for completed in (None, True, False):
            for after in (None, middle):
                expected = [
                    note
                    for note in (created if order == "asc" else created[::-1])
                    if completed is None or note["completed"] == completed
                    if after is None
                    or (note["id"] > after if order == "asc" else note["id"] < after)
                ][:2]
                params: dict[str, str | int] = {"order": order, "limit": 2}
                if completed is not None:
                    params["completed"] = str(completed).lower()
                if after is not None:
                    params["after"] = after
                response = await client.get("/notes", params=params)
                assert response.json() == expected, params


async def test_default_limit_is_100(client: httpx.AsyncClient) -> None:
    for i in range(101):
        await create_note(client, text=f"n{i}")
    response = await client.get("/notes")
    assert len(response.json()) == 100
    assert next_link(response) is not None


async def test_completed_filter(client: httpx.AsyncClient) -> None:
    done = await create_note(client, text="done", completed=True)
    todo = await create_note(client, text="todo", completed=False)
    assert (await client.get("/notes?completed=true")).json() == [done]
    assert (await client.get("/notes?completed=false")).json() == [todo]


async def test_search_is_case_insensitive_substring(client: httpx.AsyncClient) -> None:
    match = await create_note(client, text="Buy MILK today")
    await create_note(client, text="something else")
    assert (await client.get("/notes", params={"q": "milk"})).json() == [match]
    assert len((await client.get("/notes", params={"q": ""})).json()) == 2


@pytest.mark.parametrize(("query", "expected"), [("100%", "100% sure"), ("a_b", "a_b")])
async def test_search_matches_wildcards_literally(
    client: httpx.AsyncClient, query: str, expected: str
) -> None:
    for text in ["100% sure", "1000 sure", "a_b", "aXb"]:
        await create_note(client, text=text)
    found = (await client.get("/notes", params={"q": query})).json()
    assert [note["text"] for note in found] == [expected]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "after=-1",
        "after=2147483648",
        "after=9223372036854775808",
        "after=x",
        "order=sideways",
        "completed=maybe",
        "completed=1",
        "q=" + "x" * 1001,
    ],
)
async def test_bad_query_parameters_are_422(client: httpx.AsyncClient, query: str) -> None:
    problem = assert_problem(await client.get(f"/notes?{query}"), 422, "validation-error")
    name = query.split("=", 1)[0]
    assert [error["loc"] for error in problem["errors"]] == [["query", name]]


async def test_limit_bounds_are_accepted(client: httpx.AsyncClient) -> None:
    for limit in (1, 500):
        assert (await client.get(f"/notes?limit={limit}")).status_code == 200
