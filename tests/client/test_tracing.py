"""Tracing, proven with OpenTelemetry's SDK against the live service behind the fault proxy:
each attempt of a call is its own CLIENT span, a child of the caller's span in the caller's
trace, and the `traceparent` that attempt sent (as the proxy saw it) names that span. No
span holds a note's text, a query value or the API key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from notes_client import AsyncNotesClient, NotesClient, RetryPolicy, ServiceUnreachable
from service.config import Settings
from tests.client.conftest import QUICK
from tests.client.faults import FaultProxy, fault_proxy
from tests.otlp_receiver import ReceivedSpan, otlp_receiver
from tests.servers import running_server
from tests.test_tracing import API_KEY as TRACED_KEY
from tests.test_tracing import traced_env

SECRET_TEXT = "secret note text 7f3a"
SECRET_QUERY = "secret-search-9b1c"
SECRET_KEY = "secret-api-key-5d2e"
NOTE = "/notes/{note_id}"

tracer = trace.get_tracer("tests.client.test_tracing")


@pytest.fixture(scope="session")
def exporter() -> InMemorySpanExporter:
    """The spans of the whole session, kept in memory (the global provider is set once)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    exporter.clear()
    yield exporter
    exporter.clear()


def client_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """The client's spans, in the order they ended (the attempts' order)."""
    return [span for span in exporter.get_finished_spans() if span.kind is SpanKind.CLIENT]


def traceparent(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def assert_children_of(caller: trace.Span, attempts: Sequence[ReadableSpan]) -> None:
    """Each attempt is a span of its own, a child of `caller`, in its trace."""
    parent = caller.get_span_context()
    for span in attempts:
        assert span.parent is not None
        assert span.parent.span_id == parent.span_id
        assert span.context is not None
        assert span.context.trace_id == parent.trace_id
    assert len({span.context.span_id for span in attempts if span.context}) == len(attempts)


def child_of(caller: trace.Span, span: ReadableSpan) -> bool:
    return span.parent is not None and span.parent.span_id == caller.get_span_context().span_id


def assert_nothing_secret(attempts: Sequence[ReadableSpan]) -> None:
    for span in attempts:
        seen = " ".join([span.name, *map(str, (span.attributes or {}).values())])
        for secret in (SECRET_TEXT, SECRET_QUERY, SECRET_KEY):
            assert secret not in seen


def attributes(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def test_each_attempt_is_a_client_span_under_the_callers_and_sends_its_traceparent(
    proxy: FaultProxy, spans: InMemorySpanExporter
) -> None:
    proxy.inject("drop", method="POST")  # applied, answer lost: retried
    proxy.inject("503", method="GET", retry_after="0")
    with (
        NotesClient(proxy.base_url, api_key=SECRET_KEY, retry=QUICK) as notes,
        tracer.start_as_current_span("caller") as caller,
    ):
        note = notes.create(SECRET_TEXT)
        assert notes.get(note.id) == note
        assert list(notes.list(q=SECRET_QUERY)) == []

    attempts = client_spans(spans)
    names = [span.name for span in attempts]
    assert names == ["POST /notes", "POST /notes", f"GET {NOTE}", f"GET {NOTE}", "GET /notes"]
    assert_children_of(caller, attempts)
    # What each attempt sent names that attempt's span: the service continues from it.
    assert [e.headers.get("traceparent") for e in proxy.exchanges] == list(
        map(traceparent, attempts)
    )
    lost, created, unavailable, fetched, listed = map(attributes, attempts)
    port = int(proxy.base_url.rsplit(":", 1)[1])
    for seen in (lost, created, unavailable, fetched, listed):
        assert seen["server.address"] == "127.0.0.1"
        assert seen["server.port"] == port
    assert lost["http.request.method"] == "POST"
    assert lost["url.template"] == "/notes"
    assert lost["error.type"] == "httpx.RemoteProtocolError"  # closed without an answer
    assert "http.response.status_code" not in lost
    assert "http.request.resend_count" not in lost
    assert created["http.response.status_code"] == 201
    assert created["http.request.resend_count"] == 1
    assert "error.type" not in created
    assert unavailable["url.template"] == NOTE
    assert unavailable["http.response.status_code"] == 503
    assert unavailable["error.type"] == "503"
    assert fetched["http.response.status_code"] == 200
    assert fetched["http.request.resend_count"] == 1
    assert listed["url.full"] == f"{proxy.base_url}/notes?limit=REDACTED&order=REDACTED&q=REDACTED"
    statuses = [span.status.status_code for span in attempts]
    assert statuses == [
        StatusCode.ERROR,
        StatusCode.UNSET,
        StatusCode.ERROR,
        *[StatusCode.UNSET] * 2,
    ]
    assert_nothing_secret(attempts)


async def test_async_attempts_are_spans_under_each_tasks_own_caller(
    proxy: FaultProxy, spans: InMemorySpanExporter
) -> None:
    async with AsyncNotesClient(proxy.base_url, api_key=SECRET_KEY, retry=QUICK) as notes:
        note = await notes.create(SECRET_TEXT)
        spans.clear()
        proxy.exchanges.clear()
        proxy.inject("drop", method="PATCH")

        async def patch() -> trace.Span:
            with tracer.start_as_current_span("patcher") as caller:
                await notes.patch(note, text=SECRET_TEXT + " again")
                return caller

        async def get() -> trace.Span:
            with tracer.start_as_current_span("reader") as caller:
                await notes.get(note.id)
                return caller

        patcher, reader = await asyncio.gather(patch(), get())

    attempts = client_spans(spans)
    by_patcher = [span for span in attempts if child_of(patcher, span)]
    by_reader = [span for span in attempts if child_of(reader, span)]
    # The PATCH whose answer was lost, its retry meeting a 412 (the lost one applied), and
    # the GET that finds the lost one's result; the reader's GET, in its own trace.
    names = [span.name for span in by_patcher]
    assert names == [f"PATCH {NOTE}", f"PATCH {NOTE}", f"GET {NOTE}"]
    assert [span.name for span in by_reader] == [f"GET {NOTE}"]
    assert len(attempts) == 4
    assert_children_of(patcher, by_patcher)
    assert_children_of(reader, by_reader)
    sent = {e.headers.get("traceparent") for e in proxy.exchanges}
    assert len(proxy.exchanges) == 4
    assert sent == set(map(traceparent, attempts))
    lost, retried, recheck = map(attributes, by_patcher)
    assert "http.request.resend_count" not in lost
    assert retried["http.request.resend_count"] == 1
    assert retried["http.response.status_code"] == 412
    assert "http.request.resend_count" not in recheck
    assert_nothing_secret(attempts)


def test_giving_up_ends_every_attempts_span_with_its_error(
    proxy: FaultProxy, spans: InMemorySpanExporter
) -> None:
    proxy.inject("refuse", times=2)
    policy = RetryPolicy(deadline=10.0, max_attempts=2, backoff_base=0.01)
    with (
        NotesClient(proxy.base_url, retry=policy) as notes,
        tracer.start_as_current_span("caller") as caller,
        pytest.raises(ServiceUnreachable),
    ):
        notes.delete(41)

    attempts = client_spans(spans)
    assert [span.name for span in attempts] == [f"DELETE {NOTE}"] * 2
    assert_children_of(caller, attempts)
    for span in attempts:
        assert str(attributes(span)["error.type"]).startswith("httpx.")
        assert span.status.status_code is StatusCode.ERROR
        assert span.end_time is not None


def test_without_a_callers_span_each_attempt_is_still_traced_and_propagated(
    proxy: FaultProxy, spans: InMemorySpanExporter
) -> None:
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        assert list(notes.list()) == []

    [attempt] = client_spans(spans)
    assert attempt.parent is None
    assert [e.headers.get("traceparent") for e in proxy.exchanges] == [traceparent(attempt)]


@pytest.mark.live
def test_the_service_continues_the_trace_of_each_attempt(
    settings: Settings, tmp_dir: Path, spans: InMemorySpanExporter
) -> None:
    """Caller -> client attempts -> the service's server spans -> its database spans: one trace.
    The first create's answer is lost and retried; the service served both attempts, each
    as a child of the attempt that sent it."""
    with (
        otlp_receiver() as receiver,
        running_server(traced_env(receiver, settings.DATABASE_URL), tmp_dir) as server,
        fault_proxy(server.base_url) as proxy,
    ):
        proxy.inject("drop", method="POST")
        with (
            NotesClient(proxy.base_url, api_key=TRACED_KEY, retry=QUICK) as notes,
            tracer.start_as_current_span("caller") as caller,
        ):
            notes.create(SECRET_TEXT)
        attempts = client_spans(spans)
        assert len(attempts) == 2
        attempt_ids = {f"{span.context.span_id:016x}" for span in attempts if span.context}
        trace_id = f"{caller.get_span_context().trace_id:032x}"

        def served_both(received: list[ReceivedSpan]) -> bool:
            return len([s for s in received if s.name == "POST /notes"]) == 2

        received = receiver.wait_for(served_both)

    served = [span for span in received if span.name == "POST /notes"]
    assert {span.trace_id for span in served} == {trace_id}
    assert {span.parent_span_id for span in served} == attempt_ids
    served_ids = {span.span_id for span in served}
    statements = [span for span in received if span.parent_span_id in served_ids]
    assert statements  # the INSERTs, children of the server spans
    assert all(span.trace_id == trace_id for span in statements)
    assert all(SECRET_TEXT.encode() not in body for body in receiver.bodies)
