"""Request ids, the access log and request metrics, as one pure ASGI middleware (outermost).

Every response carries `X-Request-ID`: the caller's, when it is 1-128 characters of
`A-Za-z0-9._-`, otherwise a new one. The id is bound to the logging context for the whole
request, so every line logged while serving it names it. When the response is done, one
access-log line and the metrics record method, route template (never the raw path with its
ids; a route's slash form is named like the route: `/notes/` is `/notes`), status and
duration. Headers and bodies are never logged: they hold API keys and notes.

With tracing on (service.tracing), the request is a server span (server_span.py), current
while the app runs and the access log is written, so log lines carry its ids.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence

from opentelemetry import context as otel_context
from opentelemetry import trace
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.metrics import IN_FLIGHT, record_request
from service.api.middleware.auth import authenticated_client
from service.api.middleware.server_span import end_span, mark_failed, start_span
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

        span = start_span(self.tracer, scope, _method(scope)) if self.tracer is not None else None
        attached = (
            otel_context.attach(trace.set_span_in_context(span)) if span is not None else None
        )
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            if span is not None:
                mark_failed(span, f"{type(exc).__module__}.{type(exc).__qualname__}")
            raise
        finally:
            IN_FLIGHT.dec()
            method, route, api_client = self._record(scope, status, time.perf_counter() - started)
            unbind_request_id(bound)
            if span is not None and attached is not None:
                matched = route if route != UNMATCHED_ROUTE else None
                end_span(span, method, matched, status, api_client)
                otel_context.detach(attached)

    def _record(self, scope: Scope, status: int, duration: float) -> tuple[str, str, str | None]:
        method = _method(scope)
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

    def _route_template(self, scope: Scope) -> str:
        route = scope.get("route")  # set by the router when the request reached it
        if route is None:  # answered before routing (401, 413, ...): match it ourselves
            route = serving_route(self.routes, scope)
        path: str | None = getattr(route, "path", None)
        return route_template(path) if path else UNMATCHED_ROUTE


def _method(scope: Scope) -> str:
    method: str = scope["method"]
    return method if method in _KNOWN_METHODS else "OTHER"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex
