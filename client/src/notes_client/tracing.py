"""OpenTelemetry, when its API is installed (`pip install "notes-client[tracing]"`): each
attempt of a call is a CLIENT span, a child of the caller's current span, and its request
carries that span's context (`traceparent`, `tracestate`, through the API's global
propagator) so the service continues the trace. Without the API nothing here does anything.

The spans follow OpenTelemetry's HTTP client conventions: named `{method} {template}`
(`GET /notes/{note_id}`, never a note's id), with the method, the template, the server's
address and port, the URL with every query value `REDACTED`, the answer's status,
`http.request.resend_count` on a retry and `error.type` on a failure - never a body, a
header or a query value.

    traced = attempt(request, "/notes/{note_id}", number)
    with traced as request:  # the span started, made current, its traceparent in request
        try:
            traced.answered(http.send(request).status_code)
        except httpx.TransportError as error:
            traced.failed(error)
"""

from __future__ import annotations

from contextvars import Token
from types import TracebackType

import httpx

from notes_client.version import __version__

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
    from opentelemetry.context import Context
except ImportError:  # the [tracing] extra is not installed: attempts are not traced
    TRACING = False
else:
    TRACING = True
    _TRACER = trace.get_tracer("notes_client", __version__)

DEFAULT_PORTS = {"http": 80, "https": 443}


class Attempt:
    """An attempt without a span: what every attempt is when the API is not installed."""

    __slots__ = ("request",)

    def __init__(self, request: httpx.Request) -> None:
        self.request = request

    def __enter__(self) -> httpx.Request:
        self._enter()
        return self.request

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._leave(exc)

    def answered(self, status: int) -> None:
        """The service answered `status`."""

    def failed(self, error: BaseException) -> None:
        """No answer came: `error` instead."""

    def _enter(self) -> None:
        """The request is about to be sent."""

    def _leave(self, error: BaseException | None) -> None:
        """The attempt is over (`error`: an exception that ends it, if any)."""


class TracedAttempt(Attempt):
    """An attempt's CLIENT span: started, made current and injected into the request's
    headers on entering; ended on leaving (with `error.type` if it is left by an exception
    that `answered` or `failed` did not already account for)."""

    __slots__ = ("_failed", "_span", "_token")

    def __init__(self, request: httpx.Request, template: str, number: int) -> None:
        super().__init__(request)
        url = request.url
        attributes: dict[str, str | int] = {
            "http.request.method": request.method,
            "url.template": template,
            "server.address": url.host,
            "server.port": url.port or DEFAULT_PORTS.get(url.scheme, 0),
            "url.scheme": url.scheme,
            "url.full": _redacted(url),
        }
        if number > 1:
            attributes["http.request.resend_count"] = number - 1
        self._span = _TRACER.start_span(
            f"{request.method} {template}", kind=trace.SpanKind.CLIENT, attributes=attributes
        )
        self._token: Token[Context] | None = None
        self._failed = False

    def _enter(self) -> None:
        span_context = trace.set_span_in_context(self._span)
        propagate.inject(self.request.headers, context=span_context)
        self._token = otel_context.attach(span_context)

    def _leave(self, error: BaseException | None) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
        if error is not None:
            self.failed(error)
        self._span.end()

    def answered(self, status: int) -> None:
        self._span.set_attribute("http.response.status_code", status)
        if status >= 400:
            self._error(str(status))

    def failed(self, error: BaseException) -> None:
        self._error(f"{type(error).__module__}.{type(error).__qualname__}")

    def _error(self, error_type: str) -> None:
        # The first reason is the attempt's; a later one (the client giving up) is the call's.
        if not self._failed:
            self._failed = True
            self._span.set_attribute("error.type", error_type)
            self._span.set_status(trace.StatusCode.ERROR, error_type)


def _redacted(url: httpx.URL) -> str:
    """The URL without its user info and with every query value `REDACTED` (a search's
    text, a cursor), as the conventions allow."""
    query = "&".join(f"{name}=REDACTED" for name, _ in url.params.multi_items())
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}" + (f"?{query}" if query else "")


def attempt(request: httpx.Request, template: str, number: int) -> Attempt:
    """Attempt `number` (from 1) of a call to `template`, traced if the API is installed."""
    return TracedAttempt(request, template, number) if TRACING else Attempt(request)
