"""Logging: one JSON object per line on stdout, for every logger (ours, uvicorn's, libraries').

structlog renders the lines; the standard library's loggers are routed through the same
renderer, so `logging.getLogger("service").warning(...)` and uvicorn's own messages come out
in the same shape. Values bound with `bind_request_context` (the request id, while a request
is served) appear on every line logged during that request.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.typing import Processor

ACCESS_LOGGER = "service.access"
# At debug level these log every statement with its parameters: note text, key digests.
_QUIET_LIBRARIES = ("tortoise", "aiosqlite", "asyncpg")

_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
]


def configure_logging(level: str) -> None:
    """Send every log record to stdout as one JSON line, at `level` and above."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(sort_keys=False),
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
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is when a record is emitted (pytest swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)


def bind_request_context(**values: str) -> None:
    structlog.contextvars.bind_contextvars(**values)


def clear_request_context() -> None:
    structlog.contextvars.clear_contextvars()
