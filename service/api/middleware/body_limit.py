"""The gate every request body passes before the routes parse it: 415, 413, then 422.

The last check of the edge pipeline (edge.py): it runs after authentication (401) and the
request limits (414, 431), and only for a method and path that a route serves, so a wrong
method is still the router's 405. Then:

1. 415 from the headers alone: a body (`Content-Length` > 0, or chunked) needs a JSON media
   type, `application/json` or `application/*+json`, in UTF-8 if a charset is named. A
   request that says it has no body passes, so a body-less POST gets the 422 "body is
   required" that tells the caller what is missing.
2. 413: a declared `Content-Length` above the limit is refused before a byte is read; a
   chunked (or lying) body is counted while it streams and refused at the first byte over.
   At most the limit is ever held in memory.
3. 422 for bytes the routes' `json.loads` would accept wrongly or turn into a 400
   (see `strict_json`). The checked body is then handed to the route unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope

from service.api.middleware.strict_json import MalformedJson, check_json_body
from service.api.paths import serving_route
from service.errors import PayloadTooLarge, ServiceError, UnsupportedMediaType, ValidationFailed

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(Exception):
    pass


class BodyGate:
    def __init__(self, *, max_body_bytes: int, routes: Sequence[BaseRoute]) -> None:
        self.max_body_bytes = max_body_bytes
        self.routes = routes  # the router's own list: routes added later count too
        self._serving: dict[str, tuple[int, list[BaseRoute]]] = {}  # method -> its routes

    async def admit(self, scope: Scope, receive: Receive) -> ServiceError | Receive:
        """The 415, 413 or 422 this request gets; or the channel the route then reads the
        request from (the checked body, replayed)."""
        if scope["method"] not in BODY_METHODS or not self._served(scope):
            return receive
        headers = _headers(scope)
        length = _declared_length(headers)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and not length:
            return receive  # no body: the route says what it needed
        if not _is_json_media_type(headers.get("content-type", "")):
            return UnsupportedMediaType(_MEDIA_TYPE_DETAIL)
        try:
            if length is not None and length > self.max_body_bytes:
                raise BodyTooLarge
            body = await self._read_body(receive)
            check_json_body(body)
        except BodyTooLarge:
            return PayloadTooLarge(f"The body is larger than {self.max_body_bytes} bytes.")
        except MalformedJson as exc:
            detail = "The body is not a well-formed JSON document; see errors."
            return ValidationFailed(detail, errors=[exc.field_error()])
        return _replay(body, receive)

    def _served(self, scope: Scope) -> bool:
        return serving_route(self._routes_for(scope["method"]), scope) is not None

    def _routes_for(self, method: str) -> list[BaseRoute]:
        """The routes that may serve `method` (a route for other methods is the router's
        405): matching only these, a create matches one route instead of every one before."""
        known = self._serving.get(method)
        if known is None or known[0] != len(self.routes):
            routes = [r for r in self.routes if method in (getattr(r, "methods", None) or {method})]
            known = self._serving[method] = (len(self.routes), routes)
        return known[1]

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the route sees an empty body and its 422
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


_MEDIA_TYPE_DETAIL = (
    "Send the body as JSON: Content-Type application/json (or application/*+json), UTF-8."
)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _declared_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length")
    # The server has already refused a malformed Content-Length; be safe anyway.
    return int(value) if value is not None and value.strip().isdigit() else None


def _is_json_media_type(content_type: str) -> bool:
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    kind, _, subtype = media_type.partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would

    return replayed
