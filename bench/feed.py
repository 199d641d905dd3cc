"""The change feed under load: writers write while followers long-poll the feed.

    python3 scripts/dev.py run python -m bench.feed --quick     a short run (about 30 s)
    python3 scripts/dev.py run python -m bench.feed             20 s of load

Two replicas of the service (`python -m service serve`) on one PostgreSQL database, on a
cluster the run starts for itself (or the server at BENCH_POSTGRES_URL). WRITERS clients
create, change and delete notes as fast as they are answered, spread over both replicas;
FOLLOWERS clients, half at each replica, follow the feed from after=0 with long polls
(`wait=30`), following Link. Reported: the writes per second; the changes delivered per
second (all followers together, and per follower); the wake-up latency, from a write's
acknowledgement at one replica to a follower receiving its change (at either replica:
half the followers sit at the other one); and a check that every follower saw every change
exactly once, in seq order.

Creates and point reads with the feed on, against the service before it, are measured by
the main benchmark: `python3 scripts/dev.py bench --against REV`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench import cluster, seed, servers

Acknowledged = dict[tuple[int, int, str], float]  # (note_id, version, type) -> when


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.feed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="of load")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--followers", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="a short run to check it works")
    if parser.parse_args().quick:
        parser.set_defaults(seconds=5.0, writers=4, followers=4)
    return parser.parse_args()


async def write(client: httpx.AsyncClient, acks: Acknowledged, stop: float) -> int:
    """Create, change and delete notes until `stop`; how many writes were acknowledged."""
    writes = 0
    while time.monotonic() < stop:
        created = (await client.post("/notes", json={"text": "followed"})).json()
        acks[(created["id"], 1, "created")] = time.monotonic()
        changed = (await client.patch(f"/notes/{created['id']}", json={"completed": True})).json()
        acks[(changed["id"], changed["version"], "updated")] = time.monotonic()
        await client.delete(f"/notes/{created['id']}")
        acks[(changed["id"], changed["version"], "deleted")] = time.monotonic()
        writes += 3
    return writes


async def follow(client: httpx.AsyncClient, received: list[tuple[dict[str, Any], float]]) -> None:
    url = "/notes/changes?after=0&limit=1000&wait=30"
    while True:
        response = await client.get(url)
        arrived = time.monotonic()
        received.extend((change, arrived) for change in response.json())
        url = response.links["next"]["url"]


async def load(urls: list[str], args: argparse.Namespace) -> None:
    acks: Acknowledged = {}
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=60))
            for url in urls
        ]
        received: list[list[tuple[dict[str, Any], float]]] = [[] for _ in range(args.followers)]
        followers = [
            asyncio.create_task(follow(clients[index % len(clients)], received[index]))
            for index in range(args.followers)
        ]
        await asyncio.sleep(0.5)  # every follower is waiting
        started = time.monotonic()
        stop = started + args.seconds
        writes = sum(
            await asyncio.gather(
                *(write(clients[index % len(clients)], acks, stop) for index in range(args.writers))
            )
        )
        elapsed = time.monotonic() - started
        await asyncio.sleep(2)  # the last changes reach the followers
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    report(writes, elapsed, acks, received)


def report(
    writes: int,
    elapsed: float,
    acks: Acknowledged,
    received: list[list[tuple[dict[str, Any], float]]],
) -> None:
    delays = []
    for seen in received:
        seqs = [change["seq"] for change, _ in seen]
        assert seqs == list(range(1, len(seqs) + 1)), "a follower saw a gap or a repeat"
        assert len(seen) == writes, f"a follower saw {len(seen)} of {writes} changes"
        for change, arrived in seen:
            acknowledged = acks[(change["note_id"], change["version"], change["type"])]
            delays.append(max(0.0, arrived - acknowledged))
    delays.sort()
    delivered = sum(len(seen) for seen in received)
    print(f"writes: {writes} in {elapsed:.1f} s = {writes / elapsed:.0f}/s")
    print(
        f"changes delivered: {delivered / elapsed:.0f}/s over {len(received)} followers "
        f"({writes / elapsed:.0f}/s each); every follower saw every change once, in order"
    )
    print(
        "wake-up latency (write acknowledged -> change received): "
        f"p50 {statistics.median(delays) * 1000:.1f} ms, "
        f"p99 {delays[int(len(delays) * 0.99)] * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms"
    )


async def main() -> None:
    args = options()
    with ExitStack() as stack:
        server_url = os.environ.get("BENCH_POSTGRES_URL") or stack.enter_context(
            cluster.throwaway_cluster()
        )
        async with seed.database(server_url, "feed") as url:
            env = {**servers.environ_for(sys.executable), "DATABASE_URL": url}
            subprocess.run(
                [sys.executable, "-m", "service", "migrate"],
                cwd=servers.ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            replicas = [
                servers.Server(servers.service(url, name=f"replica-{n}"), log_dir) for n in range(2)
            ]
            try:
                for replica in replicas:
                    replica.wait_ready("/health/ready")
                print(
                    f"{args.writers} writers and {args.followers} long-polling followers "
                    f"over 2 replicas, {args.seconds:.0f} s",
                    flush=True,
                )
                await load([replica.base_url for replica in replicas], args)
            finally:
                for replica in replicas:
                    replica.stop()


if __name__ == "__main__":
    asyncio.run(main())
