"""The OpenAPI document describes the contract: operations, errors and headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from service.api.problems import PROBLEM_TITLES
from service.api_keys import digest_of, generate_key
from service.config import Settings
from service.main import create_app


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: {**operation, "method": method, "path": path}
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_each_notes_operation_is_listed_once_with_a_readable_id(document: dict[str, Any]) -> None:
    notes = {
        (op["method"], op["path"]): op_id
        for op_id, op in operations(document).items()
        if op["path"].startswith("/notes")
    }
    assert notes == {
        ("post", "/notes"): "create_note",
        ("get", "/notes"): "list_notes",
        ("get", "/notes/{note_id}"): "get_note",
        ("patch", "/notes/{note_id}"): "update_note",
        ("put", "/notes/{note_id}"): "replace_note",
        ("delete", "/notes/{note_id}"): "delete_note",
        ("get", "/notes/changes"): "list_changes",
    }


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    for op_id, operation in operations(document).items():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = response["content"]
                assert list(content) == ["application/problem+json"], (op_id, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("op_id", "statuses"),
    [
        ("create_note", {"201", "413", "415", "422", "500", "503"}),
        ("list_notes", {"200", "422", "500", "503"}),
        ("get_note", {"200", "304", "404", "422", "500", "503"}),
        ("update_note", {"200", "404", "412", "413", "415", "422", "428", "500", "503"}),
        ("replace_note", {"200", "404", "412", "413", "415", "422", "428", "500", "503"}),
        ("delete_note", {"204", "404", "412", "422", "428", "500", "503"}),
    ],
)
def test_operations_document_their_statuses(
    document: dict[str, Any], op_id: str, statuses: set[str]
) -> None:
    assert statuses <= set(operations(document)[op_id]["responses"])


def test_headers_are_documented(document: dict[str, Any]) -> None:
    ops = operations(document)
    assert {"Location", "ETag"} <= set(ops["create_note"]["responses"]["201"]["headers"])
    assert "Link" in ops["list_notes"]["responses"]["200"]["headers"]
    for op_id in ("get_note", "update_note", "replace_note"):
        assert "ETag" in ops[op_id]["responses"]["200"]["headers"]
    assert "Retry-After" in ops["get_note"]["responses"]["503"]["headers"]


def test_problem_types_are_documented(document: dict[str, Any]) -> None:
    description = document["info"]["description"]
    for slug in (
        "not-found",
        "validation-error",
        "precondition-failed",
        "precondition-required",
        "idempotency-key-reused",
        "method-not-allowed",
    ):
        assert f"/problems/{slug}" in description


def test_conditional_and_idempotency_headers_are_documented(document: dict[str, Any]) -> None:
    ops = operations(document)
    for op_id in ("update_note", "replace_note", "delete_note"):
        headers = {p["name"] for p in ops[op_id]["parameters"] if p["in"] == "header"}
        assert "if-match" in headers
    (key,) = (p for p in ops["create_note"]["parameters"] if p["name"] == "idempotency-key")
    assert key["in"] == "header"
    assert key["schema"]["maxLength"] == 255
    assert key["schema"]["minLength"] == 1
    assert "idempotency-key-reused" in ops["create_note"]["responses"]["422"]["description"]


def test_every_operation_has_a_summary_a_description_and_a_tag(document: dict[str, Any]) -> None:
    for op_id, operation in operations(document).items():
        assert operation.get("summary"), op_id
        assert len(operation.get("description", "")) > 20, op_id
        assert operation.get("tags"), op_id


def test_every_error_example_is_a_problem_of_its_own_status(document: dict[str, Any]) -> None:
    for op_id, operation in operations(document).items():
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/problem+json")
            if content is None:
                continue
            example = content["example"]
            assert example["status"] == int(status), (op_id, status)
            assert example["type"].startswith("/problems/")
            assert ("errors" in example) == (status == "422")
            slug = example["type"].removeprefix("/problems/")
            assert example["title"] == PROBLEM_TITLES[slug], (op_id, status)


def test_bodies_and_notes_come_with_examples_and_field_documentation(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for name in ("Note", "NoteCreate", "NotePatch", "NoteReplace"):
        assert schemas[name].get("examples"), name
    text = schemas["NoteCreate"]["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, 10_000)
    for field in schemas["Note"]["properties"].values():
        assert field.get("description")


def test_request_ids_and_operations_endpoints_are_documented(document: dict[str, Any]) -> None:
    for path_item in document["paths"].values():
        for operation in path_item.values():
            assert "X-Request-ID" in {p["name"] for p in operation["parameters"]}
            for response in operation["responses"].values():
                assert "X-Request-ID" in response["headers"]
    metrics = document["paths"]["/metrics"]["get"]
    assert "text/plain" in metrics["responses"]["200"]["content"]
    ready = document["paths"]["/health/ready"]["get"]["responses"]["503"]
    assert "Retry-After" in ready["headers"]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_the_document_with_authentication_on_is_valid_openapi() -> None:
    keyed = create_app(Settings(API_KEYS=f"alpha:{digest_of(generate_key())}"))
    validate(keyed.openapi())


def test_conditional_headers_are_documented_as_plain_strings(document: dict[str, Any]) -> None:
    """Regression (schemathesis, negative_data_rejection): If-Match and If-None-Match were
    documented as an array or null, which no header can be, so a fuzzer sent `If-Match: null`
    expecting a 422 that a careful server does not give (any string is a valid header value;
    one that names no current ETag simply does not match)."""
    ops = operations(document)
    for op_id, name in (
        ("get_note", "if-none-match"),
        ("update_note", "if-match"),
        ("replace_note", "if-match"),
        ("delete_note", "if-match"),
    ):
        (parameter,) = (p for p in ops[op_id]["parameters"] if p["name"] == name)
        assert parameter["schema"] == {"type": "string", "title": parameter["schema"]["title"]}


def test_create_links_to_what_can_be_done_with_the_new_note(document: dict[str, Any]) -> None:
    links = operations(document)["create_note"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "get_note",
        "update_note",
        "replace_note",
        "delete_note",
    }
    for link in links.values():
        assert link["parameters"]["note_id"] == "$response.body#/id"
        if link["operationId"] != "get_note":
            assert link["parameters"]["header.If-Match"] == "$response.header.ETag"


def test_every_status_comes_with_its_headers(document: dict[str, Any]) -> None:
    for op_id, operation in operations(document).items():
        responses = operation["responses"]
        if "503" in responses:
            assert "Retry-After" in responses["503"]["headers"], op_id
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], op_id
