"""The apps under test as real uvicorn processes, and their peak memory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables that would point another checkout's python or uv at this one.
FOREIGN = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")
UVICORN = ["-m", "uvicorn", "--loop", "uvloop", "--http", "httptools", "--no-server-header"]


@dataclass(frozen=True)
class AppSpec:
    """How to start one app: its command line after `python`, and its environment; by
    default with this process's python in this checkout, or another revision's (`python`,
    `cwd`: see bench/revision.py)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    python: str = sys.executable
    cwd: Path = ROOT


def service(
    url: str,
    workers: int = 1,
    name: str = "service",
    python: str = sys.executable,
    cwd: Path = ROOT,
) -> AppSpec:
    """The service as operators run it (`python -m service serve`: uvicorn picks uvloop and
    httptools, which `uvicorn[standard]` installs), with its logs and metrics on."""
    env = {"DATABASE_URL": url, "WEB_CONCURRENCY": str(workers), "LOG_LEVEL": "info"}
    return AppSpec(name, ["-m", "service", "serve"], env, python, cwd)


def environ_for(python: str) -> dict[str, str]:
    """The environment to run `python` in: this process's, and when `python` is another
    checkout's, without the variables that tie a python or uv to this one."""
    if python == sys.executable:
        return dict(os.environ)
    return {key: value for key, value in os.environ.items() if key not in FOREIGN}


def baseline(url: str) -> AppSpec:
    url = url.replace("postgres://", "postgresql://", 1)
    return AppSpec("baseline", [*UVICORN, "bench.baseline_app:app"], {"BENCH_DATABASE_URL": url})


def ceiling(url: str) -> AppSpec:
    """The ceiling app with uvicorn's access log (one line per request, as the service has)."""
    return AppSpec("ceiling", [*UVICORN, "bench.ceiling_app:app"], {"BENCH_DATABASE_URL": url})


def bare(url: str) -> AppSpec:
    """The ceiling app with no access log either: no cross-cutting work at all."""
    argv = [*UVICORN, "--no-access-log", "bench.ceiling_app:app"]
    return AppSpec("bare", argv, {"BENCH_DATABASE_URL": url})


def naive(url: str) -> AppSpec:
    """The tortoise-orm `examples/fastapi` shape (bench/naive_app.py), with no access log."""
    argv = [*UVICORN, "--no-access-log", "bench.naive_app:app"]
    return AppSpec("naive", argv, {"BENCH_DATABASE_URL": url})


class Server:
    def __init__(self, spec: AppSpec, log_dir: Path) -> None:
        self.spec = spec
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        file_name = re.sub(r"[^\w@.-]", "_", spec.name)  # e.g. service@origin/main
        self.log_path = log_dir / f"{file_name}.log"
        argv = [*spec.argv]
        env = {**environ_for(spec.python), **spec.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        if int(spec.env.get("WEB_CONCURRENCY", "1")) > 1:
            # As operators run several workers: their metrics shared through this directory.
            metrics_dir = log_dir / f"{file_name}-metrics"
            metrics_dir.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        if argv[:2] == ["-m", "uvicorn"]:
            argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [spec.python, *argv], cwd=spec.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, probe: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base_url + probe, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.spec.name} did not start:\n{self.log_path.read_text()}")

    def peak_rss_bytes(self) -> int:
        """The largest peak resident set size among the server's processes (per worker when
        uvicorn runs several: the supervisor itself serves nothing)."""
        pids = _children(self.process.pid) or [self.process.pid]
        return max(_peak_rss(pid) for pid in pids)

    def pids(self) -> list[int]:
        return [self.process.pid, *_children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split()
        children += [int(child) for child in text]
    # uvicorn's multiprocess supervisor also starts a resource tracker on some versions:
    # only processes that run our python count, and they are all workers.
    return [child for child in children if _is_python_server(child)]


def _is_python_server(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing.resource_tracker" not in cmdline


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time each process has used so far (gone processes are left out)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return used


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0
