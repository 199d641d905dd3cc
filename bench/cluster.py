"""A PostgreSQL cluster of the benchmark's own: initdb and pg_ctl on a free port, removed after.

The benchmark holds dozens of connections for minutes (five apps with their pools): on a
server shared with others that would crowd out their connections, and their load would blur
the numbers. PostgreSQL refuses to run as root; as root, the cluster runs as the `postgres`
user (which Debian's packages create).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.servers import free_port

MAX_CONNECTIONS = 200


def binaries() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise SystemExit("PostgreSQL's initdb/pg_ctl are not installed (Debian: postgresql).")
    return candidates[0].parent


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster; yields its server URL (user postgres, database postgres)."""
    bin_dir, port = binaries(), free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as directory:
        if as_postgres:
            shutil.chown(directory, user="postgres")
        data = Path(directory, "data")

        def pg(*args: str) -> None:
            subprocess.run([*as_postgres, *args], check=True, stdout=subprocess.DEVNULL)

        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N")
        options = (
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={MAX_CONNECTIONS}"
        )
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
           f"{directory}/log", "start")  # fmt: skip
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/postgres"
        finally:
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
