"""Logging: one JSON object per line on stdout, for every logger (ours, uvicorn's, libraries').

structlog renders the lines (with orjson); the standard library's loggers are routed through
the same renderer, so `logging.getLogger("service").warning(...)` and uvicorn's own messages
come out in the same shape. The request id bound with `bind_request_id` appears on every line
logged while that request is served; with tracing on (service.tracing), so do `trace_id` and
`span_id` of the current span, in OpenTelemetry's hex form.

The access log, one line per request, is the hot path: it skips the standard library's
records, handlers and formatters and goes from structlog (its documented fast configuration:
a filtering bound logger, orjson, bytes) into an in-memory buffer, with the same fields as
every other line. The buffer is written to stdout, whole lines in one `write` each time, when
the next line would take it past PIPE_BUF (4096 bytes: the most a pipe shared by several
worker processes takes without interleaving), every `flush_interval` seconds (a thread),
before any other line (so stdout stays in order), by `flush_logs()` (the app's shutdown) and
at exit. A SIGKILL loses at most the last interval's access lines; SIGTERM and a normal exit
lose none.
Lines go to whatever `sys.stdout` is when they are written (pytest swaps it).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import sys
import threading
import time
from contextvars import ContextVar, Token
from typing import Any

import orjson
import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

ACCESS_LOGGER = "service.access"
DEFAULT_FLUSH_INTERVAL_SECONDS = 0.2  # Settings.LOG_FLUSH_INTERVAL_SECONDS
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


_second_prefix = (-1, "")  # the last second formatted, and its text


def _add_timestamp(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """`timestamp`: UTC, ISO 8601 with microseconds, e.g. 2026-11-23T07:34:47.085130Z.

    structlog's TimeStamper(fmt="iso", utc=True) writes the same (but for dropping the
    microseconds when they are 0) at four times the cost: the text of each second is kept."""
    global _second_prefix
    second, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    last, prefix = _second_prefix
    if second != last:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        _second_prefix = (second, prefix)
    event_dict["timestamp"] = f"{prefix}{nanoseconds // 1000:06d}Z"
    return event_dict


_SHARED: list[Processor] = [  # after the ids
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    _add_timestamp,
]


def _write(data: bytes) -> None:
    stream = sys.stdout
    if stream is None:
        return
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # no file descriptor: pytest's capsys
        stream.write(data.decode())
        stream.flush()
        return
    stream.flush()  # what was printed before these lines comes out before them
    while data:
        data = data[os.write(fd, data) :]


class _LineBuffer:
    """Rendered lines waiting for stdout; structlog's logger for the access log."""

    def __init__(self) -> None:
        self._pending = bytearray()
        # Reentrant: a signal handler or a finalizer run by the garbage collector while a
        # line is being added may log too.
        self._lock = threading.RLock()

    def msg(self, line: bytes) -> None:
        with self._lock:
            if self._pending and len(self._pending) + len(line) >= select.PIPE_BUF:
                self._write_pending()
            self._pending += line
            self._pending += b"\n"

    info = msg  # the access log's one level

    def write_now(self, line: bytes) -> None:
        """`line` on stdout now, after the lines waiting."""
        with self._lock:
            self.msg(line)
            self._write_pending()

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._write_pending()

    def _write_pending(self) -> None:
        data = bytes(self._pending)
        self._pending.clear()
        _write(data)

    def forget(self) -> None:
        """In a forked child: the parent writes its own lines."""
        self._pending = bytearray()
        self._lock = threading.RLock()


_BUFFER = _LineBuffer()
_flushing_in: int | None = None  # the process whose thread flushes the buffer
_flush_interval = DEFAULT_FLUSH_INTERVAL_SECONDS


def flush_logs() -> None:
    """Write the access lines waiting in the buffer to stdout now."""
    _BUFFER.flush()


def _flush_periodically() -> None:
    while True:
        time.sleep(_flush_interval)
        try:
            _BUFFER.flush()
        except Exception:  # noqa: S112  # stdout closed or full: try again next time
            continue


def _start_flushing() -> None:
    global _flushing_in
    if _flushing_in != os.getpid():
        _flushing_in = os.getpid()
        threading.Thread(target=_flush_periodically, name="flush-logs", daemon=True).start()


def _after_fork() -> None:
    global _flushing_in
    _BUFFER.forget()
    if _flushing_in is not None:
        _start_flushing()


atexit.register(flush_logs)
os.register_at_fork(after_in_child=_after_fork)


def _dumps(event_dict: EventDict, **kw: Any) -> bytes:
    try:
        return orjson.dumps(event_dict, **kw)
    except TypeError:  # what orjson refuses (lone surrogates, huge ints), json escapes
        return json.dumps(event_dict, **kw).encode()


def _dumps_text(event_dict: EventDict, **kw: Any) -> str:
    return _dumps(event_dict, **kw).decode()


_access: Any = structlog.wrap_logger(None)  # replaced by configure_logging


class _ShutdownLoggedOnce(logging.Filter):
    """Drops Tortoise's second "Tortoise-ORM shutdown" line.

    `RegisterTortoise.close_orm()` (tortoise-orm 1.1) calls `Tortoise.close_connections()`,
    which logs that line, then logs it again itself: keep the first, from the call that
    closes the connections."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.funcName == "close_orm" and record.msg == "Tortoise-ORM shutdown")


_SHUTDOWN_LOGGED_ONCE = _ShutdownLoggedOnce()


def configure_logging(
    level: str,
    *,
    trace_ids: bool = False,
    flush_interval: float = DEFAULT_FLUSH_INTERVAL_SECONDS,
) -> None:
    """Send every log record to stdout as one JSON line, at `level` and above; with
    `trace_ids`, naming the current span's trace and span ids. Access lines wait at most
    `flush_interval` seconds in the buffer (from the next wait of the flushing thread)."""
    global _access, _flush_interval
    ids: list[Processor] = [_add_request_id, _add_trace_ids] if trace_ids else [_add_request_id]
    shared: list[Processor] = [*ids, *_SHARED]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps_text),
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
    flush_logs()  # the lines of the configuration before
    _flush_interval = flush_interval
    _access = structlog.wrap_logger(
        _BUFFER,
        processors=[
            *ids,
            structlog.processors.add_log_level,
            _add_timestamp,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(root.level),
        context_class=dict,
    ).bind(logger=ACCESS_LOGGER)
    _start_flushing()


def log_access(**fields: Any) -> None:
    """One access-log line (level info), with the request id and a timestamp: into the
    buffer, on stdout within the flush interval."""
    _access.info("request", **fields)


class _StdoutHandler(logging.Handler):
    """Writes each record's line to stdout at once, after the access lines waiting."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _BUFFER.write_now(self.format(record).encode())
        except Exception:
            self.handleError(record)
