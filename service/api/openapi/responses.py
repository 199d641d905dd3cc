"""OpenAPI response objects that FastAPI cannot infer: the error responses, derived from the
kinds of problem in `service.errors`, and the headers of successful answers."""

from __future__ import annotations

from typing import Any

from service.api.problems import PROBLEM_MEDIA_TYPE
from service.errors import ServiceError

Responses = dict[int | str, dict[str, Any]]


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


HEADER_ETAG = _header('The note\'s version, quoted: `"3"`.')
HEADER_LOCATION = _header("The new note's path: `/notes/{id}`.")
HEADER_LINK = _header('The next page: `<absolute URL>; rel="next"`. Absent on the last page.')
HEADER_FEED_LINK = _header(
    'Always: where to continue, `<absolute URL with after=the last seq>; rel="next"` '
    "(the same cursor again when the answer is empty)."
)


def problem_responses(*kinds: type[ServiceError]) -> Responses:
    """The `responses` entries for these kinds of problem, one per status: a status that
    several kinds share names each of their types and shows the first one's example."""
    by_status: dict[int, list[type[ServiceError]]] = {}
    for kind in kinds:
        by_status.setdefault(kind.status, []).append(kind)
    return {status: problem_response_object(*shared) for status, shared in by_status.items()}


def problem_response_object(*kinds: type[ServiceError]) -> dict[str, Any]:
    first = kinds[0]
    if len(kinds) == 1:
        description = first.explanation
    else:
        description = " Or ".join(f"`/problems/{kind.slug}`: {kind.explanation}" for kind in kinds)
    response: dict[str, Any] = {
        "description": description,
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": first.example(),
            }
        },
    }
    headers = {name: _header(text) for kind in kinds for name, text in kind.header_docs}
    if headers:
        response["headers"] = headers
    return response
