"""A throwaway PostgreSQL cluster (initdb/pg_ctl in a temporary directory, on a free port) that
a test may stop and start: never the shared server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import check_may_start_processes, free_port


def postgres_binaries() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise RuntimeError("initdb/pg_ctl are not installed: the outage tests need them")
    return candidates[0].parent


@dataclass
class Cluster:
    binaries: Path
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = f"{self.directory}/log"
        self._pg_ctl("-o", options, "-w", "-l", log, "start")

    def stop(self, *, check: bool = True) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop", check=check)

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        command = [str(self.binaries / "pg_ctl"), "-D", str(self.directory / "data"), *args]
        _run_as_owner(command, check=check)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    check_may_start_processes()
    binaries = postgres_binaries()
    with tempfile.TemporaryDirectory(prefix="notes-outage-pg-") as directory:
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(directory, user="postgres")
        cluster = Cluster(binaries, Path(directory), free_port())
        initdb = [str(binaries / "initdb"), "-D", f"{directory}/data", "-N"]
        _run_as_owner([*initdb, "-U", "postgres", "-A", "trust"])
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop(check=False)  # already stopped when the test failed mid-outage


def _run_as_owner(command: list[str], *, check: bool = True) -> None:
    user = "postgres" if os.geteuid() == 0 else None
    subprocess.run(command, check=check, capture_output=True, user=user, timeout=60)
