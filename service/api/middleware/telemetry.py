"""Request ids, the access log and request metrics, as one pure ASGI middleware (outermost).

Every response carries `X-Request-ID`: the caller's, when it is 1-128 characters of
`A-Za-z0-9._-`, otherwise a new one. The id is bound to the logging context for the whole
request, so every line logged while serving it names it. When the response is done, one
access-log line and the metrics record method, route template (never the raw path with its
ids; a route's slash form is named like the route: `/notes/` is `/notes`), status and
duration. Headers and bodies are never logged: they hold API keys and notes.

With tracing on (service.tracing), the request is a server span continuing the caller's W3C
trace (`traceparent`), named by method and route template, current while the app runs and
the access log is written (so log lines carry its ids). It holds the HTTP semantic-convention
attributes that cannot carry data: neither the path (ids, or whatever a caller sends) nor the
query string nor any header, only the route template.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.metrics import IN_FLIGHT, record_request
from service.api.middleware.auth import authenticated_client
from service.api.paths import route_template, serving_route
from service.logs import bind_request_id, log_access, unbind_request_id

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_HEADER_NAME = REQUEST_ID_HEADER.lower().encode("latin-1")
UNMATCHED_ROUTE = "<unmatched>"  # 404s: a raw path would make a label per probe

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class TelemetryMiddleware:
    def __init__(
        self, app: ASGIApp, routes: Sequence[BaseRoute], tracer: trace.Tracer | None = None
    ) -> None:
        self.app = app
        self.routes = routes
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # what the caller gets if the app ends without answering
        bound = bind_request_id(request_id)
        IN_FLIGHT.inc()
        id_header = (_REQUEST_ID_HEADER_NAME, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        span = self._start_span(scope) if self.tracer is not None else None
        attached = (
            otel_context.attach(trace.set_span_in_context(span)) if span is not None else None
        )
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            if span is not None:
                _mark_failed(span, f"{type(exc).__module__}.{type(exc).__qualname__}")
            raise
        finally:
            IN_FLIGHT.dec()
            method, route, api_client = self._record(scope, status, time.perf_counter() - started)
            unbind_request_id(bound)
            if span is not None and attached is not None:
                _end_span(span, method, route, status, api_client)
                otel_context.detach(attached)

    def _record(self, scope: Scope, status: int, duration: float) -> tuple[str, str, str | None]:
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
        route = self._route_template(scope)
        record_request(method, route, status, duration)
        client = scope.get("client")
        api_client = authenticated_client(scope)
        log_access(
            method=method,
            route=route,
            path=scope["path"],
            status=status,
            duration_ms=round(duration * 1000, 3),
            client=client[0] if client else None,
            api_client=api_client,
        )
        return method, route, api_client

    def _start_span(self, scope: Scope) -> trace.Span:
        assert self.tracer is not None
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "_OTHER"
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "url.scheme": scope.get("scheme", "http"),
        }
        if scope.get("http_version"):
            attributes["network.protocol.version"] = scope["http_version"]
        server = scope.get("server")
        if server and server[1] is not None:
            attributes["server.address"], attributes["server.port"] = server[0], server[1]
        return self.tracer.start_span(
            "HTTP" if method == "_OTHER" else method,
            context=propagate.extract(scope["headers"], getter=_ASGI_HEADERS),
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
        )

    def _route_template(self, scope: Scope) -> str:
        route = scope.get("route")  # set by the router when the request reached it
        if route is None:  # answered before routing (401, 413, ...): match it ourselves
            route = serving_route(self.routes, scope)
        path: str | None = getattr(route, "path", None)
        return route_template(path) if path else UNMATCHED_ROUTE


def _end_span(
    span: trace.Span, method: str, route: str, status: int, api_client: str | None
) -> None:
    if route != UNMATCHED_ROUTE:  # semantic conventions: no route, the method alone
        span.update_name(f"{'HTTP' if method == 'OTHER' else method} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if api_client is not None:
        span.set_attribute("notes.client", api_client)  # the key ring's name, never the key
    if status >= 500:
        _mark_failed(span, str(status))
    span.end()


def _mark_failed(span: trace.Span, error_type: str) -> None:
    # A 500's exception type was set inside (service.tracing.record_error): keep it.
    if span.is_recording() and "error.type" not in getattr(span, "attributes", {}):
        span.set_attribute("error.type", error_type)
    span.set_status(trace.StatusCode.ERROR)


class _AsgiHeaders(Getter[list[tuple[bytes, bytes]]]):
    """W3C `traceparent`/`tracestate` (and what else the propagators read) from ASGI headers."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        values = [value.decode("latin-1") for name, value in carrier if name == wanted]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [name.decode("latin-1") for name, _ in carrier]


_ASGI_HEADERS = _AsgiHeaders()


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex
