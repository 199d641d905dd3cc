"""The log of a real server process, start to stop: one JSON object per line, nothing twice,
no access line lost or late."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.logs import (
    ACCESS_LOGGER,
    DEFAULT_FLUSH_INTERVAL_SECONDS,
    configure_logging,
    flush_logs,
    log_access,
)
from tests.servers import REPO_ROOT, check_may_start_processes, free_port, running_server

pytestmark = pytest.mark.live

REQUESTS = 50  # more than a buffer of 4096 bytes holds, and some left in it at the SIGTERM
WORKERS_REQUESTS = 400


def test_a_start_and_stop_log_each_event_once_as_json(settings: Settings, tmp_dir: Path) -> None:
    with running_server({"DATABASE_URL": settings.DATABASE_URL}, tmp_dir) as server:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
    events = [json.loads(line)["event"] for line in server.log().splitlines()]

    for event in ("Tortoise-ORM started", "Tortoise-ORM shutdown", "Application shutdown"):
        assert len([e for e in events if e.startswith(event)]) == 1, (event, events)


def access_lines(log: str, prefix: str) -> list[dict[str, Any]]:
    """The access lines of the requests whose ids start with `prefix`; every line of `log`
    must be one whole JSON object."""
    lines = [json.loads(line) for line in log.splitlines()]
    return [
        line
        for line in lines
        if line["logger"] == ACCESS_LOGGER and line.get("request_id", "").startswith(prefix)
    ]


def get_with_id(base_url: str, request_id: str) -> None:
    response = httpx.get(base_url + "/health/live", headers={"X-Request-ID": request_id})
    assert response.status_code == 200


def test_sigterm_right_after_requests_loses_no_access_line(
    settings: Settings, tmp_dir: Path
) -> None:
    env = {"DATABASE_URL": settings.DATABASE_URL, "LOG_FLUSH_INTERVAL_SECONDS": "60"}
    with running_server(env, tmp_dir) as server:  # no periodic write before the exit
        for n in range(REQUESTS):
            get_with_id(server.base_url, f"sigterm-{n}")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0

    logged = [line["request_id"] for line in access_lines(server.log(), "sigterm-")]
    assert logged == [f"sigterm-{n}" for n in range(REQUESTS)]


def test_an_access_line_is_written_within_the_flush_interval_when_traffic_is_low(
    settings: Settings, tmp_dir: Path
) -> None:
    with running_server({"DATABASE_URL": settings.DATABASE_URL}, tmp_dir) as server:
        time.sleep(1)  # the start's own lines are written
        get_with_id(server.base_url, "lonely-1")
        answered = time.monotonic()
        while not access_lines(server.log(), "lonely-"):
            assert time.monotonic() - answered < DEFAULT_FLUSH_INTERVAL_SECONDS + 2, server.log()
            time.sleep(0.02)
        assert server.process.poll() is None  # written while serving, not at the exit


def test_several_workers_on_one_pipe_write_whole_lines(settings: Settings, tmp_dir: Path) -> None:
    check_may_start_processes()
    port = free_port()
    multiprocess_dir = tmp_dir / f"metrics-{port}"
    multiprocess_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir),
    }
    command = [
        *(sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory"),
        *("--workers", "2", "--port", str(port), "--no-access-log"),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workers too are stopped, if it has to be killed
    )
    output: list[bytes] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: output.append(stdout.read()))
    reader.start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                get_with_id(base_url, "starting")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.1)
        long_id = "w" * 100  # lines of about 400 bytes, ten to a write
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = [f"{long_id}-{n}" for n in range(WORKERS_REQUESTS)]
            list(pool.map(lambda request_id: get_with_id(base_url, request_id), ids))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=30)
        stdout.close()

    log = b"".join(output).decode()
    supervisor = [line for line in log.splitlines() if line.startswith("INFO:")]
    assert supervisor, log  # uvicorn's own lines, from the process that starts the workers
    assert not [line for line in supervisor if "{" in line], log
    log = "\n".join(line for line in log.splitlines() if not line.startswith("INFO:"))
    logged = sorted(line["request_id"] for line in access_lines(log, long_id))
    assert logged == sorted(ids)


def test_an_access_line_orjson_refuses_is_still_written(capsys: pytest.CaptureFixture[str]) -> None:
    """orjson refuses a lone surrogate (another ASGI server could put one in the path): the
    line falls back to the standard library's escaping instead of failing the request."""
    configure_logging("info")
    capsys.readouterr()
    log_access(method="GET", path="/notes/\udc80", status=404)
    flush_logs()
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["path"] == "/notes/\udc80"
