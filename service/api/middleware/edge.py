"""The edge: every cross-cutting step of a request, in one pure ASGI middleware.

The steps, in the order they apply (an earlier step's answer wins):

1. the request id, bound to the logging context; the in-flight gauge; with tracing on, the
   server span (server_span.py), current while the app runs;
2. on the response: `X-Request-ID` and the hardening headers (security_headers.py);
3. CORS, when CORS_ORIGINS names origins (Starlette's CORSMiddleware, slotted in here: its
   preflight answers get steps 1-2, and its headers reach every answer below);
4. unexpected errors: a problem+json 500, or 503 for a lost database (unexpected.py);
5. API keys: 401 (auth.py);
6. the request target and headers: 414, 431 (request_limits.py);
7. the body gate: 415, 413, 422 (body_limit.py);

then the app. When the exchange ends, the metrics and the access-log line (telemetry.py), and
the span ends. The lifespan passes through `run_lifespan` (startup_refusal.py).

One layer rather than a stack of seven: one call, one wrapper of `send` and one closure-free
pass per request (docs/performance.md has what it saves).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from opentelemetry import context as otel_context
from opentelemetry import trace
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.metrics import IN_FLIGHT
from service.api.middleware.auth import authenticated_client, identify_client
from service.api.middleware.body_limit import BodyGate
from service.api.middleware.cors import with_cors
from service.api.middleware.request_limits import limits_refusal
from service.api.middleware.security_headers import RawHeaders, hardening_headers
from service.api.middleware.server_span import end_span, mark_failed, start_span
from service.api.middleware.startup_refusal import run_lifespan
from service.api.middleware.telemetry import (
    REQUEST_ID_HEADER_NAME,
    UNMATCHED_ROUTE,
    method_label,
    record_exchange,
    request_id,
    route_label,
)
from service.api.middleware.unexpected import unexpected_error
from service.api.problems import problem_response
from service.api_keys import KeyRing
from service.errors import ServiceError
from service.logs import bind_request_id, unbind_request_id

_EXCHANGE = "notes.exchange"  # the scope key under which the steps inside CORS find it


class _Exchange:
    """One request's response as the edge sees it: its status, whether it started, and the
    headers every response gets."""

    __slots__ = ("_added", "_send", "started", "status")

    def __init__(self, send: Send, added: RawHeaders) -> None:
        self._send = send
        self._added = added
        self.status = 500  # what the caller gets if the app ends without answering
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started = True
            message["headers"] = [*message.get("headers", ()), *self._added]
        await self._send(message)


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        keyring: KeyRing,
        max_body_bytes: int,
        docs_paths: frozenset[str],
        cors_origins: list[str] | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.app = app
        self.routes = routes  # the router's own list: routes added later count too
        self.keyring = keyring
        self.docs_paths = docs_paths
        self.tracer = tracer
        self.body_gate = BodyGate(max_body_bytes=max_body_bytes, routes=routes)
        self.guarded = with_cors(self._guarded, cors_origins or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await run_lifespan(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        the_request_id = request_id(scope)
        id_header = (REQUEST_ID_HEADER_NAME, the_request_id.encode("latin-1"))
        added = (id_header, *hardening_headers(scope, self.docs_paths))
        exchange = scope[_EXCHANGE] = _Exchange(send, added)
        bound = bind_request_id(the_request_id)
        IN_FLIGHT.inc()
        method = method_label(scope)
        span = start_span(self.tracer, scope, method) if self.tracer is not None else None
        attached = (
            otel_context.attach(trace.set_span_in_context(span)) if span is not None else None
        )
        try:
            await self.guarded(scope, receive, exchange.send)
        except BaseException as exc:
            if span is not None:
                mark_failed(span, f"{type(exc).__module__}.{type(exc).__qualname__}")
            raise
        finally:
            # The exchange holds the server's `send`, whose owner holds the scope: a cycle
            # that would keep every request's objects until the collector's next full pass.
            del scope[_EXCHANGE]
            IN_FLIGHT.dec()
            route = route_label(scope, self.routes)
            record_exchange(scope, method, route, exchange.status, time.perf_counter() - started)
            unbind_request_id(bound)
            if span is not None and attached is not None:
                matched = route if route != UNMATCHED_ROUTE else None
                end_span(span, method, matched, exchange.status, authenticated_client(scope))
                otel_context.detach(attached)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Steps 4-7, then the app."""
        try:
            refusal = identify_client(scope, self.keyring) or limits_refusal(scope)
            if refusal is None:
                admitted = await self.body_gate.admit(scope, receive)
                if isinstance(admitted, ServiceError):
                    refusal = admitted
                else:
                    receive = admitted
            if refusal is None:
                await self.app(scope, receive, send)
                return
        except Exception as exc:
            refusal = unexpected_error(exc)
            if scope[_EXCHANGE].started:
                raise  # too late for a clean answer: let the server drop the connection
        await problem_response(refusal)(scope, receive, send)
