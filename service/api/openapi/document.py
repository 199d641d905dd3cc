"""The OpenAPI document: error responses, headers and problem types that FastAPI cannot infer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from service.api.openapi.responses import problem_response_object, problem_responses
from service.api.paths import NOTES_PREFIX
from service.api.problems import Problem
from service.errors import (
    DatabaseUnavailable,
    HeaderFieldsTooLarge,
    ServiceError,
    Unauthorized,
    UriTooLong,
    problem_kinds,
)

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
# Any request may meet these, whatever its operation.
_EVERY_OPERATION = (UriTooLong, HeaderFieldsTooLarge, ServiceError, DatabaseUnavailable)


def _problem_types_markdown() -> str:
    rows = "\n".join(f"| `/problems/{kind.slug}` | {kind.title} |" for kind in problem_kinds())
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
        if path == NOTES_PREFIX or path.startswith(NOTES_PREFIX + "/"):
            for operation in path_item.values():
                operation["security"] = requirement
                operation["responses"].setdefault("401", problem_response_object(Unauthorized))


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
                    for status, response in problem_responses(*_EVERY_OPERATION).items():
                        operation["responses"].setdefault(str(status), response)
            _document_security(document, required=auth)
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    _document_request_id(operation)
            _document_links(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
