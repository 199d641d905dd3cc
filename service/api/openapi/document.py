"""The OpenAPI document: error responses, headers and problem types that FastAPI cannot infer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from service.api.openapi_examples import problem_example
from service.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TITLES, Problem

_HEADER_ETAG = {"description": 'The note\'s version, quoted: `"3"`.', "schema": {"type": "string"}}
_HEADER_LOCATION = {
    "description": "The new note's path: `/notes/{id}`.",
    "schema": {"type": "string"},
}
_HEADER_LINK = {
    "description": 'The next page: `<absolute URL>; rel="next"`. Absent on the last page.',
    "schema": {"type": "string"},
}
_HEADER_RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "string"},
}
_HEADER_REQUEST_ID = {
    "description": "The request's id, also in every log line about it: the caller's "
    "`X-Request-ID` when it was 1-128 characters of `A-Za-z0-9._-`, otherwise a new one.",
    "schema": {"type": "string"},
}
_PARAMETER_REQUEST_ID = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "An id to trace this request by (1-128 characters of `A-Za-z0-9._-`); "
    "echoed in the response and logged. Any other value is replaced by a new id, not refused.",
    "schema": {"type": "string"},
}
_HEADER_ALLOW = {"description": "The methods this path serves.", "schema": {"type": "string"}}
_HEADER_WWW_AUTHENTICATE = {
    "description": 'The scheme to authenticate with: `Bearer realm="notes"` (with '
    '`error="invalid_token"` when a key was sent but is not valid).',
    "schema": {"type": "string"},
}

NOTE_HEADERS: dict[str, dict[str, Any]] = {
    "note": {"ETag": _HEADER_ETAG},
    "created": {"ETag": _HEADER_ETAG, "Location": _HEADER_LOCATION},
    "list": {"Link": _HEADER_LINK},
}

_DESCRIPTIONS = {
    401: "API keys are configured and the request has no valid one "
    "(`WWW-Authenticate: Bearer`); checked before anything else.",
    404: "The note does not exist (or belongs to another client).",
    405: "The path does not serve this method; `Allow` lists those it does.",
    412: "If-Match does not match the note's current ETag; nothing changed.",
    413: "The body is larger than the configured limit (MAX_BODY_BYTES, default 65,536 bytes).",
    414: "The path and query string are longer than 16,384 bytes.",
    415: "The body is not JSON (`application/json` or `application/*+json`, UTF-8).",
    422: "The request is malformed or invalid; `errors` has one entry per offending field.",
    428: "The server requires If-Match on writes (REQUIRE_IF_MATCH).",
    431: "The headers are larger than 16,384 bytes together, or more than 100 fields.",
    500: "An unexpected error; it was logged with the request id.",
    503: "The database is unavailable; retry after `Retry-After` seconds.",
}
_EXTRA_HEADERS = {
    401: {"WWW-Authenticate": _HEADER_WWW_AUTHENTICATE},
    405: {"Allow": _HEADER_ALLOW},
    503: {"Retry-After": _HEADER_RETRY_AFTER},
}
_EVERY_OPERATION = (414, 431, 500, 503)


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, as application/problem+json;
    `descriptions` (keyed `s422` and so on) replace the generic texts for one operation."""
    return {
        status: _problem_response(status, descriptions.get(f"s{status}")) for status in statuses
    }


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or _DESCRIPTIONS[status],
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": problem_example(status),
            }
        },
    }
    if status in _EXTRA_HEADERS:
        response["headers"] = _EXTRA_HEADERS[status]
    return response


def _problem_types_markdown() -> str:
    rows = "\n".join(f"| `/problems/{slug}` | {title} |" for slug, title in PROBLEM_TITLES.items())
    return (
        "Every error is `application/problem+json` (RFC 9457) with `type`, `title`, `status` "
        "and `detail`; a 422 adds `errors`. The `type` values:\n\n"
        "| type | title |\n|---|---|\n" + rows
    )


SECURITY_SCHEME = "ApiKey"
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key from the operator (`python -m service create-key CLIENT`), "
    "sent as `Authorization: Bearer <key>`. Needed on every /notes operation once keys are "
    "configured; each client sees only its own notes.",
}


def _document_security(document: dict[str, Any], *, required: bool) -> None:
    document["components"].setdefault("securitySchemes", {})[SECURITY_SCHEME] = _BEARER
    # `{}` says a request without credentials is accepted too: true while auth is off.
    requirement: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
    if not required:
        requirement.append({})
    for path, path_item in document.get("paths", {}).items():
        if path == "/notes" or path.startswith("/notes/"):
            for operation in path_item.values():
                operation["security"] = requirement
                operation["responses"].setdefault("401", _problem_response(401))


def _document_request_id(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(_PARAMETER_REQUEST_ID)
    for response in operation["responses"].values():
        response["headers"] = {**response.get("headers", {}), "X-Request-ID": _HEADER_REQUEST_ID}


_FOLLOW_UPS = {
    "GetNote": ("get_note", "Fetch the note just created."),
    "UpdateNote": ("update_note", "Change some fields of the note just created."),
    "ReplaceNote": ("replace_note", "Replace the note just created."),
    "DeleteNote": ("delete_note", "Delete the note just created."),
}


def _document_links(document: dict[str, Any]) -> None:
    """OpenAPI links from a create to what can be done with the new note: its `id` is the
    `note_id`, and (for writes) its `ETag` the `If-Match`. Clients and fuzzers follow them."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if operation.get("operationId") != "create_note":
                continue
            links = {}
            for name, (operation_id, description) in _FOLLOW_UPS.items():
                parameters = {"note_id": "$response.body#/id"}
                if operation_id != "get_note":
                    parameters["header.If-Match"] = "$response.header.ETag"
                links[name] = {
                    "operationId": operation_id,
                    "parameters": parameters,
                    "description": description,
                }
            operation["responses"]["201"]["links"] = links


def install_openapi(app: FastAPI, *, auth: bool = False) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=f"{app.description}\n\n{_problem_types_markdown()}",
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _, definitions = models_json_schema(
                [(Problem, "serialization")], ref_template="#/components/schemas/{model}"
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                definitions["$defs"]
            )
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    for status in _EVERY_OPERATION:
                        operation["responses"].setdefault(str(status), _problem_response(status))
            _document_security(document, required=auth)
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    _document_request_id(operation)
            _document_links(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
