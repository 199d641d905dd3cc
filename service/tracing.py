"""OpenTelemetry traces, configured by the standard `OTEL_*` variables (docs/operations.md).

Tracing is on only when an exporter is asked for (`OTEL_TRACES_EXPORTER=otlp|console`, or an
OTLP endpoint) and `OTEL_SDK_DISABLED` is not true. Otherwise no SDK is installed and nothing
of OpenTelemetry runs per request: the service costs what it did without tracing.

When on, the SDK reads the rest of the standard variables itself: `OTEL_SERVICE_NAME` and
`OTEL_RESOURCE_ATTRIBUTES` (the service name defaults to `notes-service`), `OTEL_TRACES_SAMPLER`
(+`_ARG`), `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*` (OTLP over HTTP with protobuf).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

DEFAULT_SERVICE_NAME = "notes-service"
TRACER_NAME = "service"

Exporter = Literal["otlp", "console"]
_TRUE = frozenset({"true", "1", "yes", "on"})
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


class UnsupportedTracingSetting(ValueError):
    """An `OTEL_*` value this service does not support: refused at start, not ignored."""


@dataclass(frozen=True)
class TracingPlan:
    exporter: Exporter


def tracing_plan(environ: Mapping[str, str]) -> TracingPlan | None:
    """Whether to trace, and where to: None means no SDK at all."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return None
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter in ("", "otlp"):
        if exporter == "" and not any(environ.get(name, "").strip() for name in _ENDPOINTS):
            return None  # no exporter asked for: tracing stays off
        for name in _PROTOCOLS:
            protocol = environ.get(name, "").strip()
            if protocol and protocol != "http/protobuf":
                raise UnsupportedTracingSetting(
                    f"{name}={protocol}: this service exports OTLP over http/protobuf only"
                )
        return TracingPlan("otlp")
    if exporter == "none":
        return None
    if exporter == "console":
        return TracingPlan("console")
    raise UnsupportedTracingSetting(f"OTEL_TRACES_EXPORTER={exporter}: use otlp, console or none")


def tracer_provider(plan: TracingPlan) -> TracerProvider:
    """An SDK provider for `plan`; sampler, batching and endpoint come from the environment."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter(plan.exporter)))
    return provider


def _exporter(kind: Exporter) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


_installed: TracerProvider | None = None


def install_tracing(environ: Mapping[str, str]) -> trace.Tracer | None:
    """Install the SDK provider `environ` asks for (once per process) and return the service's
    tracer; None when tracing is off."""
    global _installed
    plan = tracing_plan(environ)
    if plan is None:
        return None
    if _installed is None:
        _installed = tracer_provider(plan)
        trace.set_tracer_provider(_installed)
    return _installed.get_tracer(TRACER_NAME)


def flush_spans() -> None:
    """Send the spans still batched (at shutdown)."""
    if _installed is not None:
        _installed.force_flush()


def record_error(exc: BaseException) -> None:
    """Mark the current span failed by `exc`: its type only, never its message (which can
    quote SQL, values or note text)."""
    span = trace.get_current_span()
    if span.is_recording():
        error_type = f"{type(exc).__module__}.{type(exc).__qualname__}"
        span.set_attribute("error.type", error_type)
        span.add_event("exception", {"exception.type": error_type})
        span.set_status(trace.StatusCode.ERROR)
