"""The request's server span (tracing on): continues the caller's W3C trace (`traceparent`,
`tracestate`), named by method and route template (`GET /notes/{note_id}`).

It holds the HTTP semantic-convention attributes that cannot carry data: neither the path (ids,
or whatever a caller sends) nor the query string (`q=...`) nor any header; the route template,
the status, and the API key's client name (never the key).
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from starlette.types import Scope


def start_span(tracer: trace.Tracer, scope: Scope, method: str) -> trace.Span:
    """A server span for this request, child of the caller's span when it sent one; `method`
    is the request's, or OTHER for a method the service does not know."""
    attributes: dict[str, str | int] = {
        "http.request.method": "_OTHER" if method == "OTHER" else method,
        "url.scheme": scope.get("scheme", "http"),
    }
    if scope.get("http_version"):
        attributes["network.protocol.version"] = scope["http_version"]
    server = scope.get("server")
    if server and server[1] is not None:
        attributes["server.address"], attributes["server.port"] = server[0], server[1]
    return tracer.start_span(
        _span_method(method),
        context=propagate.extract(scope["headers"], getter=_ASGI_HEADERS),
        kind=trace.SpanKind.SERVER,
        attributes=attributes,
    )


def end_span(
    span: trace.Span, method: str, route: str | None, status: int, api_client: str | None
) -> None:
    """Name the span by its route (none matched: the method alone, as the semantic
    conventions say), add what the response told, and end it."""
    if route is not None:
        span.update_name(f"{_span_method(method)} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if api_client is not None:
        span.set_attribute("notes.client", api_client)  # the key ring's name, never the key
    if status >= 500:
        mark_failed(span, str(status))
    span.end()


def mark_failed(span: trace.Span, error_type: str) -> None:
    # A 500's exception type was set inside (service.tracing.record_error): keep it.
    if span.is_recording() and "error.type" not in getattr(span, "attributes", {}):
        span.set_attribute("error.type", error_type)
    span.set_status(trace.StatusCode.ERROR)


def _span_method(method: str) -> str:
    return "HTTP" if method == "OTHER" else method


class _AsgiHeaders(Getter[list[tuple[bytes, bytes]]]):
    """W3C `traceparent`/`tracestate` (and what else the propagators read) from ASGI headers."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        values = [value.decode("latin-1") for name, value in carrier if name == wanted]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [name.decode("latin-1") for name, _ in carrier]


_ASGI_HEADERS = _AsgiHeaders()
