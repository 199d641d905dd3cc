"""A PostgreSQL outage under load: the service answers 503 quickly, readiness says so, and it
recovers by itself once the database is back, losing no acknowledged write.

The test runs its own throwaway cluster (tests/pg_cluster.py) on both backends' runs: it is
the one database a test may stop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pg_cluster import throwaway_cluster
from tests.servers import REPO_ROOT, running_server

pytestmark = pytest.mark.live  # its own PostgreSQL cluster and servers

CONNECT_TIMEOUT, COMMAND_TIMEOUT = 1.0, 2.0
WRITERS, READERS = 3, 1


@dataclass
class Outcome:
    started: float
    elapsed: float
    status: int  # 0: no HTTP answer at all
    headers: httpx.Headers
    body: Any


class Load:
    """Writers creating notes and readers listing them, until stopped."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.outcomes: list[Outcome] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, args=(f"w{n}", True)) for n in range(WRITERS)
        ] + [threading.Thread(target=self._loop, args=(f"r{n}", False)) for n in range(READERS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _loop(self, name: str, writes: bool) -> None:
        with httpx.Client(base_url=self.base_url, timeout=15) as http:
            count = 0
            while not self.stopping.is_set():
                count += 1
                started = time.monotonic()
                try:
                    if writes:
                        response = http.post("/notes", json={"text": f"{name}-{count}"})
                    else:
                        response = http.get("/notes", params={"limit": 5})
                except httpx.TransportError:
                    self.outcomes.append(Outcome(started, 0.0, 0, httpx.Headers(), None))
                    continue
                body = response.json() if response.content else None
                elapsed = time.monotonic() - started
                self.outcomes.append(
                    Outcome(started, elapsed, response.status_code, response.headers, body)
                )
                time.sleep(0.01)


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=120,
    )


def wait_for_recovery(http: httpx.Client, timeout: float) -> float:
    """Seconds until readiness is 200 and a note can be created again."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        ready = http.get("/health/ready")
        if (
            ready.status_code == 200
            and http.post("/notes", json={"text": "probe"}).status_code == 201
        ):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"the service did not recover within {timeout} s")


def test_a_database_restart_under_load(tmp_dir: Path) -> None:
    with throwaway_cluster() as cluster:
        migrate(cluster.url)
        env = {
            "DATABASE_URL": cluster.url,
            "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "DB_COMMAND_TIMEOUT": str(COMMAND_TIMEOUT),
            "DB_POOL_MAX_SIZE": "5",
        }
        with (
            running_server(env, tmp_dir) as server,
            httpx.Client(base_url=server.base_url, timeout=15) as http,
            Load(server.base_url) as load,
        ):
            time.sleep(1.0)
            cluster.stop()
            stopped_at = time.monotonic()
            time.sleep(1.0)
            not_ready = http.get("/health/ready")
            time.sleep(1.0)
            cluster.start()
            restarted_at = time.monotonic()
            recovery = wait_for_recovery(http, timeout=10.0)
            time.sleep(1.5)

        outcomes = list(load.outcomes)
        errors = [line for line in server.log().splitlines() if '"level":"error"' in line]
        created = [o.body for o in outcomes if o.status == 201]
        missing: list[dict[str, Any]] = []
        with (
            running_server({"DATABASE_URL": cluster.url}, tmp_dir) as again,
            httpx.Client(base_url=again.base_url, timeout=15) as check,
        ):
            for note in created:
                seen = check.get(f"/notes/{note['id']}")
                if seen.status_code != 200 or seen.json()["text"] != note["text"]:
                    missing.append(note)

    during = [o for o in outcomes if stopped_at <= o.started < restarted_at]
    unavailable = [o for o in outcomes if o.status == 503]
    after = [o for o in outcomes if o.started >= restarted_at + recovery]
    print(
        f"\noutage: {len(outcomes)} requests, {len(created)} notes created, "
        f"{len(unavailable)} answered 503 (slowest {max(o.elapsed for o in unavailable):.3f} s); "
        f"recovered {recovery:.3f} s after PostgreSQL accepted connections again"
    )
    print(*errors, sep="\n")  # the server's own account of anything unexpected
    assert {o.status for o in outcomes} <= {200, 201, 503}, errors
    assert during, "no request was made during the outage"
    assert unavailable, "the outage was not seen"
    for outcome in unavailable:
        assert outcome.headers["content-type"] == "application/problem+json"
        assert int(outcome.headers["retry-after"]) > 0
        assert outcome.elapsed < CONNECT_TIMEOUT + COMMAND_TIMEOUT + 1.0
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == "application/problem+json"
    assert "database" in not_ready.json()["detail"]
    assert recovery < 5.0
    assert after
    assert all(o.status in (200, 201) for o in after)
    assert missing == []
