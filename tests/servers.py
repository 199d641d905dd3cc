"""Real uvicorn processes for tests that need real HTTP: `python -m service serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent

# tests/conftest.py clears it for each test not marked `live`, so that `pytest -m "not live"`
# stays the fast subset: such a test cannot start a process here without saying so.
may_start_processes = True


def check_may_start_processes() -> None:
    if not may_start_processes:
        raise RuntimeError(
            "this test starts a server process: mark it @pytest.mark.live "
            "(`pytest -m 'not live'` is the fast subset)"
        )


def run_to_end(args: list[str], database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `args` (a `python -m service ...`, say) from the repository on `database_url`,
    with `env` added, to its end; its output captured as text."""
    return subprocess.run(
        args,
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(
    env: Mapping[str, str],
    log_dir: Path,
    *,
    startup_timeout: float = 20.0,
    port: int | None = None,
) -> Iterator[Server]:
    """Start the service on `port` (default: a free one) with these environment variables;
    stop it after."""
    check_may_start_processes()
    port = port or free_port()
    log_path = log_dir / f"server-{port}-{time.monotonic_ns()}.log"
    full_env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_live(server, startup_timeout)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_live(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"the server exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            if httpx.get(f"{server.base_url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not start within {timeout} s:\n{server.log()}")
