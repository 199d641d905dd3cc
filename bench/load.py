"""Load generation with wrk (Debian's `wrk` package) and the numbers it reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "workload.lua"
RESULT_PREFIX = "BENCH_RESULT "


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    errors: int  # connect/read/write errors, timeouts and responses with status >= 400
    p50_ms: float
    p99_ms: float
    # CPU time per request of the app's processes and of its PostgreSQL backends.
    server_cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def find_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu).")
    return found


def parse(output: str) -> Measurement:
    """The measurement in wrk's output (the line workload.lua's `done` prints)."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            raw = json.loads(line[len(RESULT_PREFIX) :])
            errors = sum(
                raw[key]
                for key in (
                    "connect_errors",
                    "read_errors",
                    "write_errors",
                    "status_errors",
                    "timeouts",
                )
            )
            return Measurement(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors=errors,
                p50_ms=raw["p50_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
            )
    raise ValueError(f"no {RESULT_PREFIX.strip()} line in wrk's output:\n{output}")


def run_wrk(
    base_url: str,
    workload: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    max_id: int = 100_000,
    path: str = "",
) -> Measurement:
    env = {
        **os.environ,
        "BENCH_WORKLOAD": workload,
        "BENCH_MAX_ID": str(max_id),
        "BENCH_PATH": path,
    }
    command = [
        find_wrk(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        base_url,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return parse(done.stdout)
