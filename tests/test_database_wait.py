"""At startup `migrate` and `serve` wait for a database that does not accept connections yet
(retrying with backoff for DB_STARTUP_TIMEOUT seconds, logging each attempt), then give up
with one clear line. A throwaway cluster, started late, stands in for PostgreSQL coming up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.databases import backend
from tests.pg_cluster import throwaway_cluster
from tests.servers import REPO_ROOT, free_port, run_to_end

pytestmark = [
    pytest.mark.live,
    pytest.mark.postgres_only(reason="the wait is for a PostgreSQL server; SQLite is a file"),
]


MIGRATE = [sys.executable, "-m", "service", "migrate"]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "service", *args],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for_line(log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline, f"no {text!r} in:\n{log.read_text()}"
        time.sleep(0.1)


def test_migrate_waits_for_a_database_that_starts_late(tmp_path: Path) -> None:
    log = tmp_path / "migrate.log"
    with throwaway_cluster() as cluster:
        cluster.stop()
        migrate = start(["migrate"], {"DATABASE_URL": cluster.url, "DB_STARTUP_TIMEOUT": "60"}, log)
        try:
            wait_for_line(log, "is not reachable yet (attempt 2")
            assert migrate.poll() is None, log.read_text()  # still waiting, not crashed
            cluster.start()
            assert migrate.wait(timeout=60) == 0, log.read_text()
        finally:
            migrate.kill()
    output = log.read_text()
    assert "is not reachable yet (attempt 1" in output
    assert "Applied migration" in output
    assert "Traceback" not in output


def get(url: str, timeout: float = 30) -> httpx.Response:
    """The first answer from `url` (retried while nothing listens yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_answers_live_but_not_ready_while_it_waits_then_serves(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    base_url = f"http://127.0.0.1:{(port := free_port())}"
    with throwaway_cluster() as cluster:
        cluster.stop()
        env = {"DATABASE_URL": cluster.url, "HOST": "127.0.0.1", "PORT": str(port)}
        server = start(["serve", "--migrate"], env, log)
        try:
            waiting = get(f"{base_url}/health/ready")
            assert waiting.status_code == 503, log.read_text()
            assert waiting.headers["content-type"] == "application/problem+json"
            assert waiting.json()["type"].endswith("not-ready")
            assert "waiting for the database" in waiting.json()["detail"]
            assert get(f"{base_url}/health/live").status_code == 200
            assert get(f"{base_url}/notes").status_code == 503
            cluster.start()
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline and status != 200:
                status = get(f"{base_url}/health/ready").status_code
                time.sleep(0.2)
            assert status == 200, log.read_text()
            assert get(f"{base_url}/notes").status_code == 200
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "is not reachable yet" in log.read_text()


def test_sigterm_while_waiting_exits_0(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    port = free_port()
    database = f"postgres://postgres@127.0.0.1:{free_port()}/postgres"  # nothing there
    env = {"DATABASE_URL": database, "HOST": "127.0.0.1", "PORT": str(port)}
    server = start(["serve"], env, log)
    try:
        assert get(f"http://127.0.0.1:{port}/health/ready").status_code == 503
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0, log.read_text()
    finally:
        server.kill()
        server.wait()


def test_it_gives_up_after_db_startup_timeout_with_a_clear_message() -> None:
    nothing_there = f"postgres://postgres@127.0.0.1:{free_port()}/postgres"
    started = time.monotonic()
    result = run_to_end(MIGRATE, nothing_there, DB_STARTUP_TIMEOUT="3")
    took = time.monotonic() - started
    assert result.returncode == 1
    assert 3 <= took < 30
    assert "did not accept a connection within DB_STARTUP_TIMEOUT=3 s" in result.stderr
    assert "Check DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout.count("is not reachable yet") >= 2


def test_a_database_that_answers_no_is_not_waited_for(database_url: str) -> None:
    """A wrong database name is not "not up yet": it fails at once, with the server's word."""
    assert backend() == "postgres"
    server = database_url.rsplit("/", 1)[0]
    started = time.monotonic()
    result = run_to_end(MIGRATE, f"{server}/no_such_database_here", DB_STARTUP_TIMEOUT="60")
    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert "no_such_database_here" in result.stderr
    assert "is not reachable yet" not in result.stdout
