"""`python -m service healthcheck`: what the image's HEALTHCHECK and compose run. It asks the
server on PORT (not a fixed 8000) and exits 0 only on a 200."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.servers import REPO_ROOT, Server, free_port


def healthcheck(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORT": str(port), "HOST": "0.0.0.0"}
    return subprocess.run(
        [sys.executable, "-m", "service", "healthcheck", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_it_checks_the_server_on_port(live_server: Server) -> None:
    port = int(live_server.base_url.rsplit(":", 1)[1])
    live = healthcheck(port)
    assert live.returncode == 0, live.stdout + live.stderr
    assert f"127.0.0.1:{port}/health/live answered 200" in live.stdout
    ready = healthcheck(port, "--path", "/health/ready")
    assert ready.returncode == 0, ready.stdout + ready.stderr


def test_it_fails_when_nothing_serves_on_port(live_server: Server) -> None:
    result = healthcheck(free_port())
    assert result.returncode == 1
    assert "unhealthy" in result.stderr
    assert "Traceback" not in result.stderr
