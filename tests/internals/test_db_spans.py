"""Pins what service.internals.db_spans relies on: Tortoise's statement methods, per client."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tortoise import connections

from service.internals.db_spans import CLIENT_CLASSES, EXECUTE_METHODS, trace_statements
from service.internals.pg_pool import BoundedWaitClient


def test_every_statement_method_of_the_clients_is_one_the_hook_wraps() -> None:
    classes: list[type[Any]] = [*CLIENT_CLASSES, BoundedWaitClient]
    concrete = [cls for cls in classes if not inspect.isabstract(cls)]
    assert len(concrete) == 5
    for cls in concrete:
        for name in EXECUTE_METHODS:
            owner = next(
                klass
                for klass in cls.__mro__
                if name in klass.__dict__
                and not getattr(klass.__dict__[name], "__isabstractmethod__", False)
            )
            assert owner in CLIENT_CLASSES, f"{cls.__name__}.{name} comes from {owner}"
            assert inspect.iscoroutinefunction(owner.__dict__[name])
            params = list(inspect.signature(owner.__dict__[name]).parameters)
            assert params[:2] == ["self", "query"]


async def test_a_statement_in_a_traced_context_is_a_child_span_without_its_values(
    app: FastAPI,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    trace_statements(tracer)
    connection = connections.get("default")
    await connection.execute_query("SELECT 1")  # no current span: no statement span
    assert exporter.get_finished_spans() == ()
    with tracer.start_as_current_span("request") as parent:
        await connection.execute_query_dict(
            "SELECT id FROM notes WHERE text = " + ("$1" if _system() == "postgresql" else "?"),
            ["private words"],
        )
    statement, request = exporter.get_finished_spans()
    assert request.context.span_id == parent.get_span_context().span_id
    assert statement.parent is not None
    assert statement.parent.span_id == request.context.span_id
    assert statement.kind is trace.SpanKind.CLIENT
    assert statement.attributes is not None
    assert statement.attributes["db.system.name"] == _system()
    assert statement.attributes["db.operation.name"] == "SELECT"
    assert "private words" not in str(statement.attributes)
    provider.shutdown()


def _system() -> str:
    dialect: str = connections.get("default").capabilities.dialect
    return "postgresql" if dialect == "postgres" else "sqlite"
