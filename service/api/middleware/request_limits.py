"""Limits on the request target and headers: 414 and 431 as problem+json.

Checked by the edge pipeline (edge.py) after authentication, before the body gate. uvicorn's
default HTTP parser (httptools) puts no bound of its own on header size or count, so without
this a caller's bug could send a megabyte of headers to every route. Nothing this API takes
comes close to these limits: the longest query, a `q` of 1,000 four-byte characters
percent-encoded, is 12,000 bytes.
"""

from __future__ import annotations

from starlette.types import Scope

from service.errors import HeaderFieldsTooLarge, ServiceError, UriTooLong

MAX_TARGET_BYTES = 16_384  # path and query string, as sent
MAX_HEADER_BYTES = 16_384  # every header's name and value, together
MAX_HEADER_COUNT = 100


def limits_refusal(scope: Scope) -> ServiceError | None:
    """The 414 or 431 this request gets, or None."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    if len(raw_path) + len(scope["query_string"]) > MAX_TARGET_BYTES:
        detail = f"The path and query string are longer than {MAX_TARGET_BYTES} bytes."
        return UriTooLong(detail)
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    if len(headers) > MAX_HEADER_COUNT:
        detail = f"The request has more than {MAX_HEADER_COUNT} header fields."
        return HeaderFieldsTooLarge(detail)
    if sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
        detail = f"The request's headers are larger than {MAX_HEADER_BYTES} bytes together."
        return HeaderFieldsTooLarge(detail)
    return None
