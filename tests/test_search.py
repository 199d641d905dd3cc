"""Search on GET /notes (`q`, `search`, `order=relevance`) on both backends: the same matches
as a reference scan in Python, every match exactly once across pages, rows written by plain
SQL found, and no 5xx for hostile input."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tortoise import connections

from tests.databases import backend
from tests.factories import assert_problem

TEXTS = [
    "Buy milk and bread",
    "buy MILK, then bread!",
    "Milk shake recipe: milk, ice cream",
    "Été à Paris: café crème",
    "ete a paris, cafe creme",
    "CAFÉ au lait",
    "naïve résumé of the plan",
    "100% sure; 50% done",
    "100 percent sure",
    "file_name with_underscores",
    "filename without underscores",
    'back\\slash and "quotes" here',
    "Ωμέγα and Δέλτα letters",
    "東京 and 大阪 trip",
    "emoji 🎉 party tonight",
    "tab\there and new\nline",
    "the quick brown fox jumps",
    "quick the brown fox",
    "brown quick fox",
    "or else what",
    "NEAR the AND NOT edge",
    "star* caret^ colon: (paren)",
    "ab",
    "a",
    "zzz zz z",
]

SUBSTRINGS = [
    "milk", "MILK", "bread", "a", "ab", "zz", "zzz", "%", "50%", "_", "e_w", "file_", "\\",
    '"', "été", "ÉTÉ", "Été", "café", "cafe", "Ωμέ", "ωμέ", "東京", "🎉", "\t", "\n", "quick brown",
    "or", "NEAR", "*", "^", ":", "(", "nothing-like-this", "é", "i", ".",
]  # fmt: skip

SEARCHES = [
    "milk", "MILK bread", "milk -bread", '"milk shake"', '"brown fox"', '"quick brown fox"',
    "milk or fox", "milk -shake or paris", "ete", "été", "cafe", "résumé", "resume", "东京",
    "東京", "ωμέγα", "quick -brown", '-"brown fox" quick', "fox or", "or fox", "the",
    '"the quick', "near", "and not", "100", "sure -50", "star", "paren", "🎉 party",
    "nothing", "tab", "line new",
]  # fmt: skip


def fold_case(text: str) -> str:
    """How `q` compares text: SQLite's LIKE folds ASCII only, PostgreSQL's ILIKE all of it."""
    if backend() == "sqlite":
        return text.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))
    return text.lower()


def words_of(text: str) -> list[str]:
    """Words as both backends' tokenizers see them here: runs of letters and digits, lower
    case; SQLite's unicode61 also removes diacritics (PostgreSQL's `simple` keeps them)."""
    found = [word.lower() for word in re.findall(r"[^\W_]+", text)]
    if backend() == "sqlite":
        found = [without_diacritics(word) for word in found]
    return found


def without_diacritics(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def reference_search(search: str) -> Callable[[str], bool]:
    """The web-search syntax, evaluated on a note's words in Python."""
    alternatives: list[list[tuple[list[str], bool]]] = [[]]
    for match in re.finditer(r'(-?)(?:"([^"]*)"?|([^\s"]+))', search):
        excluded, phrase, word = match.group(1) == "-", match.group(2), match.group(3)
        if word is not None and not excluded and word.lower() == "or":
            alternatives.append([])
            continue
        term = words_of(phrase if phrase is not None else word)
        if term:
            alternatives[-1].append((term, excluded))

    def contains(words: list[str], phrase: list[str]) -> bool:
        return any(words[i : i + len(phrase)] == phrase for i in range(len(words)))

    def matches(text: str) -> bool:
        words = words_of(text)
        return any(
            terms and all(contains(words, phrase) != excluded for phrase, excluded in terms)
            for terms in alternatives
        )

    return matches


async def make_notes(client: httpx.AsyncClient, texts: list[str]) -> dict[int, str]:
    notes = {}
    for index, text in enumerate(texts):
        response = await client.post("/notes", json={"text": text, "completed": index % 2 == 0})
        assert response.status_code == 201, response.text
        notes[response.json()["id"]] = text
    return notes


async def walk(client: httpx.AsyncClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every note of a listing, following `Link` to the end."""
    seen: list[dict[str, Any]] = []
    response = await client.get("/notes", params=params)
    while True:
        assert response.status_code == 200, response.text
        seen += response.json()
        link = response.headers.get("link")
        if link is None:
            return seen
        response = await client.get(link.split(";")[0].strip()[1:-1])


async def test_q_finds_what_a_reference_scan_finds(client: httpx.AsyncClient) -> None:
    notes = await make_notes(client, TEXTS)
    for needle in SUBSTRINGS:
        found = [note["id"] for note in await walk(client, {"q": needle, "limit": 500})]
        expected = [i for i, text in notes.items() if fold_case(needle) in fold_case(text)]
        assert found == expected, needle


async def test_search_finds_what_a_reference_scan_finds(client: httpx.AsyncClient) -> None:
    notes = await make_notes(client, TEXTS)
    for search in SEARCHES:
        found = [note["id"] for note in await walk(client, {"search": search, "limit": 500})]
        matches = reference_search(search)
        assert found == [i for i, text in notes.items() if matches(text)], search


async def test_search_and_q_combine_with_completed_and_each_other(
    client: httpx.AsyncClient,
) -> None:
    notes = await make_notes(client, TEXTS)
    completed_ids = {i for index, i in enumerate(notes) if index % 2 == 0}
    params = {"search": "milk or fox", "q": "b", "completed": "true"}
    found = [note["id"] for note in await walk(client, params)]
    matches = reference_search("milk or fox")
    expected = [i for i, t in notes.items() if matches(t) and "b" in t and i in completed_ids]
    assert found == expected
    assert found  # the combination is not vacuous


@pytest.mark.parametrize("order", ["asc", "desc", "relevance"])
@pytest.mark.parametrize("limit", [1, 3, 7])
async def test_pages_see_every_match_exactly_once(
    client: httpx.AsyncClient, order: str, limit: int
) -> None:
    texts = [f"fox {'fox ' * (i % 5)}number {i} {'brown' if i % 3 else 'grey'}" for i in range(23)]
    notes = await make_notes(client, texts)
    for params in (
        {"search": "fox", "order": order, "limit": limit},
        {"search": "fox brown", "order": order, "limit": limit},
        {"search": "fox", "order": order, "limit": limit, "completed": "false"},
        {"q": "own", "order": order, "limit": limit},
    ):
        if "q" in params and order == "relevance":
            continue
        ids = [note["id"] for note in await walk(client, params)]
        assert len(ids) == len(set(ids)), params
        matches = reference_search(str(params.get("search", "")))
        expected = {
            i
            for index, (i, text) in enumerate(notes.items())
            if (("q" in params and "own" in text) or ("search" in params and matches(text)))
            and ("completed" not in params or index % 2 == 1)
        }
        assert set(ids) == expected, params
        if order == "asc":
            assert ids == sorted(ids)
        if order == "desc":
            assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sparse_and_dense_matches_page_alike(client: httpx.AsyncClient, order: str) -> None:
    """PostgreSQL reads a window of notes in id order before it turns to the search index
    (service.search): pages across that window's edge see every match exactly once."""
    texts = [f"note {i}" + (" needle" if i % 37 == 0 or 150 < i < 160 else "") for i in range(400)]
    await sql(
        "INSERT INTO notes (owner, text, completed, created_at, updated_at, version) "
        "VALUES " + ", ".join(["('anonymous', ?, ?, ?, ?, 1)"] * len(texts)),
        *[v for i, t in enumerate(texts) for v in (t, i % 2 == 0, NOW, NOW)],
    )
    rows = (await client.get("/notes", params={"limit": 500})).json()
    expected = [note["id"] for note in rows if "needle" in note["text"]]
    expected_completed = [n["id"] for n in rows if "needle" in n["text"] and n["completed"]]
    if order == "desc":
        expected.reverse()
        expected_completed.reverse()
    for params in ({"q": "needl"}, {"search": "needle"}):
        for limit in (1, 2, 3, 5):
            found = [
                n["id"] for n in await walk(client, {**params, "order": order, "limit": limit})
            ]
            assert found == expected, (params, limit)
        both = {**params, "order": order, "limit": 2, "completed": "true"}
        assert [n["id"] for n in await walk(client, both)] == expected_completed


async def test_relevance_ranks_the_best_match_first(client: httpx.AsyncClient) -> None:
    notes = await make_notes(
        client, ["fox and a dog", "fox fox fox", "one fox", "dog only", "fox fox"]
    )
    ranked = await walk(client, {"search": "fox", "order": "relevance", "limit": 2})
    assert ranked[0]["text"] == "fox fox fox"
    assert {note["id"] for note in ranked} == {i for i, t in notes.items() if "fox" in t}


@pytest.mark.parametrize("after_rank", ["-1.0464368142070466e+64", "1e308", "-0.0", "5e-324"])
async def test_any_finite_after_rank_is_a_page(client: httpx.AsyncClient, after_rank: str) -> None:
    await make_notes(client, ["fox one", "fox fox two"])
    params = {"search": "fox", "order": "relevance", "after": "9", "after_rank": after_rank}
    assert (await client.get("/notes", params=params)).status_code == 200


async def test_the_relevance_link_carries_the_rank(client: httpx.AsyncClient) -> None:
    await make_notes(client, ["fox one", "fox fox two", "fox three"])
    response = await client.get(
        "/notes", params={"search": "fox", "order": "relevance", "limit": 1}
    )
    next_url = httpx.URL(response.headers["link"].split(";")[0].strip()[1:-1])
    assert next_url.params["after"] == str(response.json()[0]["id"])
    assert float(next_url.params["after_rank"]) > 0


NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


async def sql(statement: str, *values: Any) -> None:
    if backend() == "postgres":
        parts = statement.split("?")
        statement = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
    await connections.get("default").execute_query(statement, list(values))


async def search_ids(client: httpx.AsyncClient, **params: str) -> list[int]:
    response = await client.get("/notes", params=params)
    assert response.status_code == 200, response.text
    return [note["id"] for note in response.json()]


async def test_rows_written_by_plain_sql_are_found(client: httpx.AsyncClient) -> None:
    now = NOW
    await sql(
        "INSERT INTO notes (id, owner, text, completed, created_at, updated_at, version) "
        "VALUES (?, 'anonymous', ?, ?, ?, ?, 1)",
        4242, "restored from a backup: pelican", False, now, now,
    )  # fmt: skip
    assert await search_ids(client, q="pelica") == [4242]
    assert await search_ids(client, search="pelican") == [4242]

    await sql("UPDATE notes SET text = ? WHERE id = ?", "fixed by an operator: albatross", 4242)
    assert await search_ids(client, q="pelica") == []
    assert await search_ids(client, search="pelican") == []
    assert await search_ids(client, q="batros") == [4242]
    assert await search_ids(client, search="albatross operator") == [4242]

    await sql("UPDATE notes SET owner = ? WHERE id = ?", "someone-else", 4242)
    assert await search_ids(client, q="batros") == []
    await sql("UPDATE notes SET owner = 'anonymous' WHERE id = ?", 4242)
    assert await search_ids(client, search="albatross", order="relevance") == [4242]

    await sql("DELETE FROM notes WHERE id = ?", 4242)
    assert await search_ids(client, q="batros") == []
    assert await search_ids(client, search="albatross") == []


@pytest.mark.parametrize("name", ["q", "search"])
@pytest.mark.parametrize("value", ["\x00", "milk\x00", "\x00\x00", "a\x00b"])
async def test_a_nul_character_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    body = assert_problem(await client.get("/notes", params={name: value}), 422, "validation-error")
    assert body["errors"][0]["loc"] == ["query", name]


CONTROL_CHARACTERS = [chr(code) for code in [*range(1, 32), 127, 0x85, 0x2028, 0xFEFF]]


@pytest.mark.parametrize("name", ["q", "search"])
async def test_other_control_characters_are_searched_for_like_any_other(
    client: httpx.AsyncClient, name: str
) -> None:
    await make_notes(client, ["plain", "bell\x07here"])
    for character in CONTROL_CHARACTERS:
        for value in (character, f"bell{character}", f'"{character}" -{character} or {character}'):
            response = await client.get("/notes", params={name: value})
            assert response.status_code in (200, 422), (repr(value), response.text)
    assert len(await search_ids(client, q="\x07")) == 1


HOSTILE_SEARCHES = [
    '"', '""', '"""', "-", "--", "- -", "-\"\"", "or", "or or", "OR", "AND", "NOT", "NEAR",
    "NEAR(a b)", "a NEAR/2 b", "a*", "*", "^a", "a:b", "text:milk", "(", ")", "(milk", "milk)",
    "{a b}:c", "+milk", "milk + bread", "'", "''", "\\", "\\\"", "!", "&", "|", "!milk",
    "milk & bread", "milk | bread", "milk <-> bread", ":*", "milk:*", "a\u0301", "\u0301",
    "\U0010ffff", "\ufffd", "😀" * 50, "x" * 1000, "-milk", "-milk -bread", "milk or -bread",
]  # fmt: skip


async def test_hostile_searches_are_a_200_or_a_422_naming_search(
    client: httpx.AsyncClient,
) -> None:
    await make_notes(client, TEXTS)
    for value in HOSTILE_SEARCHES:
        for order in ("asc", "relevance"):
            response = await client.get("/notes", params={"search": value, "order": order})
            assert response.status_code in (200, 422), (value, response.text)
            if response.status_code == 422:
                body = assert_problem(response, 422, "validation-error")
                assert [error["loc"] for error in body["errors"]] == [["query", "search"]]
        response = await client.get("/notes", params={"q": value})
        assert response.status_code == 200, (value, response.text)


@pytest.mark.parametrize(
    "search", ["-milk", "-milk -bread", "milk or -bread", "!!!", '""', "-", "or"]
)
async def test_a_search_with_nothing_to_find_is_a_422_that_says_why(
    client: httpx.AsyncClient, search: str
) -> None:
    response = await client.get("/notes", params={"search": search})
    body = assert_problem(response, 422, "validation-error")
    (error,) = body["errors"]
    assert error["loc"] == ["query", "search"]
    assert "word" in error["msg"]


async def test_relevance_needs_a_search(client: httpx.AsyncClient) -> None:
    for params in ({"order": "relevance"}, {"order": "relevance", "q": "milk"}):
        body = assert_problem(await client.get("/notes", params=params), 422, "validation-error")
        assert body["errors"][0]["loc"] == ["query", "order"]


@pytest.mark.parametrize(
    "params",
    [
        {"after": "3"},
        {"after_rank": "0.5"},
        {"after": "3", "after_rank": "nan"},
        {"after": "3", "after_rank": "inf"},
        {"after": "3", "after_rank": "x"},
    ],
)
async def test_a_relevance_cursor_is_both_after_and_after_rank(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/notes", params={"search": "fox", "order": "relevance", **params})
    body = assert_problem(response, 422, "validation-error")
    assert ["query", "after_rank"] in [error["loc"] for error in body["errors"]]


HEADERS_READ = [
    "authorization", "if-match", "if-none-match", "idempotency-key", "x-request-id",
    "content-type", "accept", "origin", "traceparent", "tracestate",
    "access-control-request-method",
]  # fmt: skip


@pytest.mark.parametrize("header", HEADERS_READ)
async def test_control_characters_in_headers_are_never_a_5xx(
    client: httpx.AsyncClient, header: str
) -> None:
    note = (await client.post("/notes", json={"text": "header target"})).json()
    for value in (b"\x00", b"a\x00b", b"\x01\x1f\x7f", b'"1"\x00', b"W/\x00", b"\xff\xfe"):
        for method, url in (
            ("GET", "/notes?q=header"),
            ("GET", f"/notes/{note['id']}"),
            ("PATCH", f"/notes/{note['id']}"),
            ("POST", "/notes"),
            ("OPTIONS", "/notes"),
        ):
            headers = [(header.encode(), value)]
            request = client.build_request(method, url, json={"text": "x"}, headers=headers)
            response = await client.send(request)
            assert response.status_code < 500, (header, value, method, response.text)


@pytest.mark.postgres_only(reason="the statement timeout is PostgreSQL's")
async def test_a_search_past_its_time_limit_is_a_503_that_says_why(
    client: httpx.AsyncClient, override_settings: Callable[..., None]
) -> None:
    await connections.get("default").execute_script(
        "INSERT INTO notes (owner, text, completed, created_at, updated_at, version) "
        "SELECT 'anonymous', 'note number ' || i, false, now(), now(), 1 "
        "FROM generate_series(1, 50000) AS i"
    )
    override_settings(SEARCH_TIMEOUT_MS=1)
    response = await client.get("/notes", params={"q": "zq"})  # no trigram: a scan
    body = assert_problem(response, 503, "search-timed-out")
    assert "1 ms" in body["detail"]
    assert response.headers["retry-after"] == "1"
    override_settings(SEARCH_TIMEOUT_MS=5_000)
    assert (await client.get("/notes", params={"q": "zq"})).json() == []
