"""Bad bodies and ids get a 422 problem with one `errors` entry per field, and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import assert_problem, create_note


async def stored_notes(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = (await client.get("/notes?limit=500")).json()
    return notes


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"text": "a\u0000b"}, ["body", "text"], "text_nul"),
        ({"text": "   "}, ["body", "text"], "text_blank"),
        ({"text": ""}, ["body", "text"], "text_blank"),
        ({"text": "x" * 10_001}, ["body", "text"], "string_too_long"),
        ({"text": None}, ["body", "text"], "null_not_allowed"),
        ({"text": "t", "completed": None}, ["body", "completed"], "null_not_allowed"),
        ({"text": "t", "completed": "true"}, ["body", "completed"], "bool_type"),
        ({"text": "t", "completed": 1}, ["body", "completed"], "bool_type"),
        ({"text": 12}, ["body", "text"], "string_type"),
        ({"text": "t", "id": 5}, ["body", "id"], "extra_forbidden"),
        ({"text": "t", "version": 9}, ["body", "version"], "extra_forbidden"),
        (
            {"text": "t", "created_at": "2026-01-01T00:00:00Z"},
            ["body", "created_at"],
            "extra_forbidden",
        ),
        ({"completed": True}, ["body", "text"], "missing"),
    ],
)
async def test_invalid_create_bodies_are_422_and_store_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], loc: list[str], error_type: str
) -> None:
    problem = assert_problem(await client.post("/notes", json=body), 422, "validation-error")
    assert problem["errors"] == [
        {"loc": loc, "msg": problem["errors"][0]["msg"], "type": error_type}
    ]
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    "raw",
    [b'{"text": "a\\ud800"}', b'{"text": "\\udfff"}'],
    ids=["high-surrogate", "low-surrogate"],
)
async def test_lone_surrogates_are_422_on_every_backend(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    response = await client.post(
        "/notes", content=raw, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body", "text"]
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"text": "a",}', b"\xff\xfe{}", b""],
    ids=["open", "word", "comma", "utf8", "empty"],
)
async def test_malformed_json_is_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/notes", content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation-error")
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PATCH", {"text": None}),
        ("PATCH", {"completed": "false"}),
        ("PATCH", {"text": "\u0000"}),
        ("PATCH", {"version": 3}),
        ("PUT", {"text": "t"}),
        ("PUT", {"text": "t", "completed": True, "id": 1}),
    ],
)
async def test_invalid_changes_are_422_and_change_nothing(
    client: httpx.AsyncClient, method: str, body: dict[str, Any]
) -> None:
    note = await create_note(client)
    response = await client.request(method, f"/notes/{note['id']}", json=body)
    assert_problem(response, 422, "validation-error")
    assert (await client.get(f"/notes/{note['id']}")).json() == note


@pytest.mark.parametrize("note_id", ["0", "-1", "2147483648", "9223372036854775808", "abc", "1.5"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_ids_outside_the_integer_range_are_422_never_500(
    client: httpx.AsyncClient, method: str, note_id: str
) -> None:
    body = {"text": "t", "completed": True} if method in ("PATCH", "PUT") else None
    response = await client.request(method, f"/notes/{note_id}", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["path", "note_id"]


async def test_errors_never_echo_the_input(client: httpx.AsyncClient) -> None:
    secret = "s3cr3t-value-" + "y" * 10_000
    response = await client.post("/notes", json={"text": secret})
    assert_problem(response, 422, "validation-error")
    assert "s3cr3t" not in response.text


async def test_an_unknown_key_with_a_lone_surrogate_gets_a_clean_422(
    client: httpx.AsyncClient,
) -> None:
    raw = b'{"text": "t", "\\ud800": 1}'
    response = await client.post(
        "/notes", content=raw, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["type"] == "string_unicode"


def post_raw(client: httpx.AsyncClient, raw: bytes) -> Any:
    return client.post("/notes", content=raw, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "\x80"}',  # a continuation byte alone
        b'{"text": "\xc3\x28"}',  # a broken two-byte sequence
        b'{"text": "\xc0\xaf"}',  # an overlong encoding of "/"
        b'{"text": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8
        b'\xff\xfe{\x00"\x00t\x00e\x00x\x00t\x00"\x00:\x00"\x00t\x00"\x00}\x00',  # UTF-16
        '{"text": "ok"}'.encode("utf-32"),
    ],
    ids=["continuation", "broken", "overlong", "surrogate", "utf-16", "utf-32"],
)
async def test_a_body_that_is_not_utf8_is_422_not_400(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    """Regression (schemathesis, POST /notes): a body `json.loads` could not decode was a 400
    "There was an error parsing the body", undocumented; UTF-16/32 bodies were accepted."""
    problem = assert_problem(await post_raw(client, raw), 422, "validation-error")
    assert problem["errors"] == [
        {"loc": ["body"], "msg": "The body is not valid UTF-8", "type": "json_invalid"}
    ]
    assert await stored_notes(client) == []


async def test_a_byte_order_mark_is_refused(client: httpx.AsyncClient) -> None:
    raw = b'\xef\xbb\xbf{"text": "t"}'
    problem = assert_problem(await post_raw(client, raw), 422, "validation-error")
    assert problem["errors"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    "raw",
    [b'{"text": "a", "text": "b"}', b'{"text": "a", "completed": true, "completed": false}'],
)
async def test_duplicate_keys_are_422_rather_than_last_one_wins(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    problem = assert_problem(await post_raw(client, raw), 422, "validation-error")
    assert problem["errors"][0]["type"] == "json_duplicate_key"
    assert await stored_notes(client) == []


async def test_duplicate_keys_in_a_change_change_nothing(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    response = await client.patch(
        f"/notes/{note['id']}",
        content=b'{"text": "a", "text": "b"}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert_problem(response, 422, "validation-error")
    assert (await client.get(f"/notes/{note['id']}")).json() == note


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 30_000,
        b"[" * 30_000 + b"]" * 30_000,
        b'{"text": "t", "completed": ' + b"[" * 40 + b"]" * 40 + b"}",
        b'{"text": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
    ],
    ids=["open", "closed", "in-a-field", "objects"],
)
async def test_deeply_nested_json_is_422(client: httpx.AsyncClient, raw: bytes) -> None:
    """Regression: 30,000 open brackets made `json.loads` raise RecursionError: a 400."""
    problem = assert_problem(await post_raw(client, raw), 422, "validation-error")
    assert problem["errors"][0]["type"] == "json_too_deep"


async def test_brackets_inside_strings_do_not_count_as_nesting(client: httpx.AsyncClient) -> None:
    text = "[{" * 2_000 + '"\\'
    response = await client.post("/notes", json={"text": text})
    assert response.status_code == 201, response.text
    assert response.json()["text"] == text


@pytest.mark.parametrize(
    ("raw", "error_type"),
    [
        (b'{"text": "t", "completed": ' + b"9" * 5_000 + b"}", "json_invalid"),
        (b'{"text": "t", "completed": 1e999}', "bool_type"),
        (b'{"text": ' + b"1" * 4_000 + b"}", "string_type"),
        (b'{"text": "t", "completed": NaN}', "json_invalid"),
        (b'{"text": "t", "completed": -Infinity}', "json_invalid"),
    ],
    ids=["too-many-digits", "overflowing-float", "long-integer", "nan", "infinity"],
)
async def test_huge_and_non_finite_numbers_are_422(
    client: httpx.AsyncClient, raw: bytes, error_type: str
) -> None:
    """Regression: an integer longer than Python converts made `json.loads` raise ValueError,
    which FastAPI answers with an undocumented 400."""
    problem = assert_problem(await post_raw(client, raw), 422, "validation-error")
    assert problem["errors"][0]["type"] == error_type
    assert await stored_notes(client) == []


@pytest.mark.parametrize(
    "raw", [b"null", b"[]", b'"text"', b"42", b"true", b"   ", b'{"text": "t"} {}']
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_bodies_that_are_not_one_json_object_are_422_and_change_nothing(
    client: httpx.AsyncClient, method: str, raw: bytes
) -> None:
    note = await create_note(client)
    path = "/notes" if method == "POST" else f"/notes/{note['id']}"
    response = await client.request(
        method, path, content=raw, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation-error")
    assert await stored_notes(client) == [note]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_null_values_in_changes_are_422(client: httpx.AsyncClient, method: str) -> None:
    note = await create_note(client)
    body = {"text": None, "completed": None}
    response = await client.request(method, f"/notes/{note['id']}", json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert {error["type"] for error in problem["errors"]} == {"null_not_allowed"}
    assert (await client.get(f"/notes/{note['id']}")).json() == note


@pytest.mark.parametrize("note_id", ["0", "-1", "2147483648", "9223372036854775808", "abc", "%00"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_bad_ids_change_nothing_whatever_the_method(
    client: httpx.AsyncClient, method: str, note_id: str
) -> None:
    note = await create_note(client)
    body = {"text": "changed", "completed": True} if method in ("PATCH", "PUT") else None
    response = await client.request(method, f"/notes/{note_id}", json=body)
    assert_problem(response, 422, "validation-error")
    assert await stored_notes(client) == [note]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/notes", "GET, POST"),
        ("PATCH", "/notes/", "GET, POST"),
        ("DELETE", "/notes", "GET, POST"),
        ("TRACE", "/notes", "GET, POST"),
        ("POST", "/notes/{id}", "GET, PUT, PATCH, DELETE"),
        ("POST", "/notes/{id}/", "GET, PUT, PATCH, DELETE"),
        ("TRACE", "/notes/{id}", "GET, PUT, PATCH, DELETE"),
        ("POST", "/notes/abc", "GET, PUT, PATCH, DELETE"),
    ],
)
async def test_wrong_methods_are_405_with_allow_and_change_nothing(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    note = await create_note(client)
    response = await client.request(
        method, path.replace("{id}", str(note["id"])), json={"text": "changed", "completed": True}
    )
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allow
    assert await stored_notes(client) == [note]
