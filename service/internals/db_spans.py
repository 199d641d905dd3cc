"""A client span around every SQL statement Tortoise sends, on both backends.

Relies on Tortoise's internals (pinned by tests/internals/test_db_spans.py): every statement of
the ORM (and of `service.internals.prepared`) goes through one of the `execute_*` methods of
the backend's client classes, with the SQL and its parameters apart. Wrapping those methods in
the request's own task gives the spans the right parent on both backends; the drivers'
instrumentation cannot: aiosqlite runs sqlite3 in a thread of its own (the span would lose its
parent), and the prepared statements would need asyncpg's and sqlite3's both.

A span carries the statement's text as Tortoise built it, with placeholders (`$1`, `?`), never
the parameters. Statements outside a traced request (startup, the periodic purge) make none.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import trace
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.asyncpg.client import TransactionWrapper as AsyncpgTransaction
from tortoise.backends.base_postgres.client import BasePostgresClient
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

EXECUTE_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_many",
    "execute_script",
)
CLIENT_CLASSES: dict[type[Any], str] = {
    BasePostgresClient: "postgresql",  # execute_script; the others are abstract there
    AsyncpgDBClient: "postgresql",
    AsyncpgTransaction: "postgresql",
    SqliteClient: "sqlite",
    SqliteTransactionWrapper: "sqlite",
}
_WRAPPED = "__service_db_span__"

_tracer: trace.Tracer | None = None


def trace_statements(tracer: trace.Tracer) -> None:
    """Make a span for each statement from now on (idempotent)."""
    global _tracer
    _tracer = tracer
    for cls, system in CLIENT_CLASSES.items():
        for name in EXECUTE_METHODS:
            method = cls.__dict__.get(name)  # only the class's own: subclasses inherit ours
            abstract = getattr(method, "__isabstractmethod__", False)
            if method is not None and not abstract and not getattr(method, _WRAPPED, False):
                setattr(cls, name, _traced(method, system))


def _traced(method: Callable[..., Awaitable[Any]], system: str) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def traced(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        tracer = _tracer
        if tracer is None or not trace.get_current_span().is_recording():
            return await method(self, query, *args, **kwargs)
        operation = _operation(query)
        with tracer.start_as_current_span(
            f"{operation} {system}" if operation else system,
            kind=trace.SpanKind.CLIENT,
            attributes={
                "db.system": system,
                "db.system.name": system,
                "db.operation.name": operation,
                "db.query.text": query,
            },
            # a driver's message can quote values: the type only, set below
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await method(self, query, *args, **kwargs)
            except BaseException as exc:
                span.set_attribute("error.type", f"{type(exc).__module__}.{type(exc).__name__}")
                span.set_status(trace.StatusCode.ERROR)
                raise

    setattr(traced, _WRAPPED, True)
    return traced


def _operation(query: str) -> str:
    words = query.lstrip().split(None, 1)
    return words[0].upper() if words else ""
