"""Problem examples for the OpenAPI document: one true-to-life body per error status."""

from __future__ import annotations

from typing import Any

_PROBLEMS: dict[int, tuple[str, str, str]] = {
    401: (
        "unauthorized",
        "Unauthorized",
        "This endpoint needs an API key: send `Authorization: Bearer <key>`.",
    ),
    404: ("not-found", "Not found", "Note 17 does not exist."),
    405: (
        "method-not-allowed",
        "Method not allowed",
        "DELETE is not allowed here; use GET or POST.",
    ),
    412: (
        "precondition-failed",
        "Precondition failed",
        "If-Match does not match the note's current ETag; fetch it and retry.",
    ),
    413: ("payload-too-large", "Request body too large", "The body is larger than 65536 bytes."),
    414: (
        "uri-too-long",
        "URI too long",
        "The path and query string are longer than 16384 bytes.",
    ),
    415: (
        "unsupported-media-type",
        "Unsupported media type",
        "Send the body as application/json.",
    ),
    422: (
        "validation-error",
        "Request validation failed",
        "The request has 1 invalid field; see errors.",
    ),
    428: (
        "precondition-required",
        "Precondition required",
        "This server requires If-Match with the note's ETag on every change.",
    ),
    431: (
        "request-header-fields-too-large",
        "Request header fields too large",
        "The request's headers are larger than 16384 bytes together.",
    ),
    500: (
        "internal-error",
        "Internal server error",
        "The server could not complete the request; it has been logged.",
    ),
    503: (
        "database-unavailable",
        "Service unavailable",
        "The database is unavailable; retry later.",
    ),
}


def problem_example(status: int) -> dict[str, Any]:
    slug, title, detail = _PROBLEMS[status]
    example: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if status == 422:
        example["errors"] = [
            {
                "loc": ["body", "text"],
                "msg": "Text must contain at least one non-whitespace character",
                "type": "text_blank",
            }
        ]
    return example
