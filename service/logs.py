"""Logging: one JSON object per line on stdout, for every logger (ours, uvicorn's, libraries').

structlog renders the lines; the standard library's loggers are routed through the same
renderer, so `logging.getLogger("service").warning(...)` and uvicorn's own messages come out
in the same shape. The request id bound with `bind_request_id` appears on every line logged
while that request is served; with tracing on (service.tracing), so do `trace_id` and
`span_id` of the current span, in OpenTelemetry's hex form.

The access log, one line per request, is the hot path: it skips the standard library's
records, handlers and formatters and goes from structlog straight to stdout (structlog's
documented fast configuration), with the same fields as every other line.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar, Token
from typing import Any

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

ACCESS_LOGGER = "service.access"
# At debug level these log every statement with its parameters: note text, key digests.
_QUIET_LIBRARIES = ("tortoise", "aiosqlite", "asyncpg")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def bind_request_id(request_id: str) -> Token[str | None]:
    """Name `request_id` on every line logged in this context, until `unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def _add_request_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    request_id = _request_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(span_context.trace_id))
        event_dict.setdefault("span_id", trace.format_span_id(span_context.span_id))
    return event_dict


_TIMESTAMP = structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp")

_SHARED: list[Processor] = [  # after the ids
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    _TIMESTAMP,
]


class _Stdout:
    """Writes each rendered line to whatever `sys.stdout` is at the time (pytest swaps it)."""

    def msg(self, message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        stream.flush()

    info = msg  # the access log's one level


_access: Any = structlog.wrap_logger(None)  # replaced by configure_logging


class _ShutdownLoggedOnce(logging.Filter):
    """Drops Tortoise's second "Tortoise-ORM shutdown" line.

    `RegisterTortoise.close_orm()` (tortoise-orm 1.1) calls `Tortoise.close_connections()`,
    which logs that line, then logs it again itself: keep the first, from the call that
    closes the connections."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.funcName == "close_orm" and record.msg == "Tortoise-ORM shutdown")


_SHUTDOWN_LOGGED_ONCE = _ShutdownLoggedOnce()


def configure_logging(level: str, *, trace_ids: bool = False) -> None:
    """Send every log record to stdout as one JSON line, at `level` and above; with
    `trace_ids`, naming the current span's trace and span ids."""
    global _access
    ids: list[Processor] = [_add_request_id, _add_trace_ids] if trace_ids else [_add_request_id]
    shared: list[Processor] = [*ids, *_SHARED]
    renderer = structlog.processors.JSONRenderer(sort_keys=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_notes_service", False)]:
        root.removeHandler(old)
    handler._notes_service = True  # type: ignore[attr-defined]  # ours, replaced on reconfigure
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # Uvicorn's loggers print on their own handlers; ours replace them (the access log
        # is ours too: `service.access`, written by the request middleware).
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    logging.getLogger("tortoise").addFilter(_SHUTDOWN_LOGGED_ONCE)  # added once, however often
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _access = structlog.wrap_logger(
        _Stdout(),
        processors=[*ids, structlog.processors.add_log_level, _TIMESTAMP, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(root.level),
        context_class=dict,
    ).bind(logger=ACCESS_LOGGER)


def log_access(**fields: Any) -> None:
    """One access-log line (level info), with the request id and a timestamp."""
    _access.info("request", **fields)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is when a record is emitted (pytest swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass
