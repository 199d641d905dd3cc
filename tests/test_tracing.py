"""Traces: configuration from OTEL_* variables, and real servers exporting to a real OTLP
receiver, on the session's backend."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from service.config import Settings
from service.tracing import (
    TracingPlan,
    UnsupportedTracingSetting,
    tracer_provider,
    tracing_plan,
)
from tests.otlp_receiver import ReceivedSpan, Receiver, otlp_receiver
from tests.servers import REPO_ROOT, Server, running_server

API_KEY = "tracing-test-key-" + "k" * 24
SECRET_TEXT = "the launch code is swordfish-7731"
SECRET_QUERY = "secretword"


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"OTEL_SERVICE_NAME": "x"}, None),  # no exporter asked for
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, TracingPlan("otlp")),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, TracingPlan("otlp")),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, TracingPlan("otlp")),  # the default endpoint
        ({"OTEL_TRACES_EXPORTER": "console"}, TracingPlan("console")),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, None),
        (
            {"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"},
            TracingPlan("otlp"),
        ),
    ],
)
def test_tracing_is_on_only_when_an_exporter_is_configured(
    environ: dict[str, str], expected: TracingPlan | None
) -> None:
    assert tracing_plan(environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
    ],
)
def test_unsupported_tracing_settings_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(UnsupportedTracingSetting, match="OTEL_"):
        tracing_plan(environ)


def test_the_service_name_defaults_to_notes_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
    provider = tracer_provider(TracingPlan("console"))
    try:
        assert provider.resource.attributes["service.name"] == "notes-service"
        assert provider.resource.attributes["deployment.environment.name"] == "test"
    finally:
        provider.shutdown()


def test_the_standard_variables_name_the_service_and_choose_the_sampler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "notes-eu")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    provider = tracer_provider(TracingPlan("console"))
    try:
        assert provider.resource.attributes["service.name"] == "notes-eu"
        assert "0.25" in provider.sampler.get_description()
    finally:
        provider.shutdown()


# --- real servers, a real receiver ------------------------------------------------------------


def traced_env(receiver: Receiver, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "API_KEYS": f"tracer:{hashlib.sha256(API_KEY.encode()).hexdigest()}",
    }


def caller() -> tuple[str, str, dict[str, str]]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    headers = {
        "traceparent": f"00-{trace_id}-{span_id}-01",
        "tracestate": "caller=1",
        "Authorization": f"Bearer {API_KEY}",
    }
    return trace_id, span_id, headers


def server_span(spans: list[ReceivedSpan], trace_id: str) -> ReceivedSpan | None:
    return next(
        (s for s in spans if s.trace_id == trace_id and s.kind == Span.SPAN_KIND_SERVER), None
    )


def log_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.live
def test_a_request_continues_the_callers_trace_down_to_the_database(
    settings: Settings, tmp_dir: Path
) -> None:
    with otlp_receiver() as receiver:
        with running_server(traced_env(receiver, settings.DATABASE_URL), tmp_dir) as server:
            _, _, create_headers = caller()
            created = httpx.post(
                f"{server.base_url}/notes", json={"text": SECRET_TEXT}, headers=create_headers
            )
            assert created.status_code == 201
            note_id = created.json()["id"]
            trace_id, parent_id, headers = caller()
            read = httpx.get(f"{server.base_url}/notes/{note_id}", headers=headers)
            assert read.status_code == 200
            search_trace, _, search_headers = caller()
            found = httpx.get(
                f"{server.base_url}/notes", params={"q": SECRET_QUERY}, headers=search_headers
            )
            assert found.status_code == 200

            def complete(spans: list[ReceivedSpan]) -> bool:
                return all(server_span(spans, t) for t in (trace_id, search_trace)) and any(
                    s.trace_id == trace_id and s.kind == Span.SPAN_KIND_CLIENT for s in spans
                )

            spans = receiver.wait_for(complete)
            request_id = read.headers["X-Request-ID"]
        logs = log_lines(server)

    span = server_span(spans, trace_id)
    assert span is not None
    assert span.name == "GET /notes/{note_id}"
    assert span.parent_span_id == parent_id
    assert span.status_code == Status.STATUS_CODE_UNSET
    assert span.resource["service.name"] == "notes-service"
    assert span.attributes["http.request.method"] == "GET"
    assert span.attributes["http.route"] == "/notes/{note_id}"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["url.scheme"] == "http"
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span.attributes["notes.client"] == "tracer"

    statements = [s for s in spans if s.trace_id == trace_id and s.kind == Span.SPAN_KIND_CLIENT]
    assert statements
    for statement in statements:
        assert statement.parent_span_id == span.span_id
        assert statement.attributes["db.system.name"] in ("sqlite", "postgresql")
        assert statement.attributes["db.operation.name"] == "SELECT"
        assert statement.attributes["db.query.text"].startswith("SELECT")
        assert any(mark in statement.attributes["db.query.text"] for mark in ("$1", "?"))

    search = server_span(spans, search_trace)
    assert search is not None
    assert search.name == "GET /notes"

    # Every line logged while serving the read names its trace and span; the access log too.
    served = [line for line in logs if line.get("request_id") == request_id]
    assert served
    assert all(line["trace_id"] == trace_id for line in served)
    access = [line for line in served if line.get("logger") == "service.access"]
    assert access
    assert access[0]["span_id"] == span.span_id

    # Nothing a caller sent as data, nor the key, is ever exported.
    for body in receiver.bodies:
        for secret in (SECRET_TEXT, SECRET_QUERY, API_KEY, "swordfish"):
            assert secret.encode() not in body


@pytest.mark.live
def test_a_5xx_marks_the_span_failed_without_the_error_text(tmp_path: Path) -> None:
    # A database of its own whose notes table is gone: every read is a 500.
    database = tmp_path / "broken.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env={**os.environ, "DATABASE_URL": f"sqlite://{database}"},
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    with (
        otlp_receiver() as receiver,
        running_server(traced_env(receiver, f"sqlite://{database}"), tmp_path) as server,
    ):
        with sqlite3.connect(database) as connection:
            connection.execute("ALTER TABLE notes RENAME TO notes_gone")
        trace_id, _, headers = caller()
        response = httpx.get(f"{server.base_url}/notes/7", headers=headers)
        assert response.status_code == 500
        spans = receiver.wait_for(
            lambda spans: (
                server_span(spans, trace_id) is not None
                and any(s.kind == Span.SPAN_KIND_CLIENT for s in spans)
            )
        )

    span = server_span(spans, trace_id)
    assert span is not None
    assert span.name == "GET /notes/{note_id}"
    assert span.status_code == Status.STATUS_CODE_ERROR
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"].endswith("OperationalError")
    assert span.events == [("exception", {"exception.type": span.attributes["error.type"]})]
    statement = next(s for s in spans if s.kind == Span.SPAN_KIND_CLIENT)
    assert statement.status_code == Status.STATUS_CODE_ERROR
    assert statement.parent_span_id == span.span_id
    for body in receiver.bodies:
        assert b"no such table" not in body  # the driver's message stays out


@pytest.mark.live
def test_with_the_sdk_disabled_nothing_is_exported(settings: Settings, tmp_dir: Path) -> None:
    with otlp_receiver() as receiver:
        env = {**traced_env(receiver, settings.DATABASE_URL), "OTEL_SDK_DISABLED": "true"}
        with running_server(env, tmp_dir) as server:
            _, _, headers = caller()
            created = httpx.post(f"{server.base_url}/notes", json={"text": "x"}, headers=headers)
            assert created.status_code == 201
            read = httpx.get(f"{server.base_url}/notes/{created.json()['id']}", headers=headers)
            assert read.status_code == 200
            time.sleep(0.5)  # ten batch delays
        assert receiver.bodies == []
        assert all("trace_id" not in line for line in log_lines(server))
