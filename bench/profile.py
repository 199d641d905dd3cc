"""Where the service's time goes under load: py-spy samples the serving process while wrk
runs one workload, and the samples are grouped by the layer that spends them.

    uv run --group bench python -m bench.profile read     # or list, create, mixed
    uv run --group bench python -m bench.profile read list create mixed   # one after another

Prints, for each workload, time by layer (the innermost frame of ours, the framework's or the
driver's that each sample is in: "self" time) and the functions with the most self and
inclusive time; with several workloads, also one table of the layers with a column per
workload. Keeps the raw collapsed stacks (for flame-graph tools) in bench/profile-WORKLOAD.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench import cluster, seed, servers
from bench.load import run_wrk

ROOT = Path(__file__).resolve().parent.parent
# Most specific first: the first pattern found in a frame's file names its layer.
LAYERS = (
    ("service/", "service (our code)"),
    ("pypika", "pypika (SQL building for tortoise)"),
    ("tortoise/", "tortoise (ORM: query building, model instances)"),
    ("asyncpg/", "asyncpg (driver, pool)"),
    ("pydantic", "pydantic (validation, serialization)"),
    ("structlog/", "structlog (log rendering)"),
    ("orjson", "structlog (log rendering)"),
    ("prometheus_client/", "prometheus_client (metrics)"),
    ("fastapi/", "fastapi (routing, dependencies, params)"),
    ("starlette/", "starlette (routing, requests, responses)"),
    ("uvicorn/", "uvicorn (HTTP protocol, ASGI glue)"),
    ("logging/", "logging"),
    ("asyncio/", "asyncio / uvloop (event loop)"),
    ("uvloop", "asyncio / uvloop (event loop)"),
)


def layer(frame: str) -> str | None:
    for pattern, name in LAYERS:
        if pattern in frame:
            return name
    return None


def summarize(collapsed: str) -> tuple[Counter[str], Counter[str], int]:
    """(samples by innermost known layer, samples by function inclusive, total samples)."""
    by_layer, by_function, _, total = summarize_all(collapsed)
    return by_layer, by_function, total


def summarize_all(collapsed: str) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """As `summarize`, plus samples by innermost function ("self" time)."""
    by_layer: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    by_self: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        innermost = next((n for f in reversed(frames) if (n := layer(f))), "other (C code, idle)")
        by_layer[innermost] += count
        by_self[frames[-1]] += count
        for function in set(frames):
            by_function[function] += count
    return by_layer, by_function, by_self, total


def table(counter: Counter[str], total: int, limit: int) -> str:
    lines = ["| where | share of samples |", "|---|--:|"]
    for name, count in counter.most_common(limit):
        lines.append(
            f"| `{name}` | {count / total:.0%} |"
            if "(" not in name
            else f"| {name} | {count / total:.0%} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("workloads", nargs="+", choices=("read", "list", "create", "mixed"))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    layers: dict[str, tuple[Counter[str], int]] = {}
    for workload in args.workloads:
        layers[workload] = await profile(workload, args)
    if len(layers) > 1:
        print("Self time by layer, per workload:\n\n" + layer_table(layers))


async def profile(workload: str, args: argparse.Namespace) -> tuple[Counter[str], int]:
    """Load the service with `workload` and sample it; print the tables, answer the layers."""
    py_spy = str(Path(sys.executable).parent / "py-spy")
    output = ROOT / "bench" / f"profile-{workload}.txt"
    with (
        tempfile.TemporaryDirectory(prefix="profile-") as log_dir,
        cluster.throwaway_cluster() as own_server,
    ):
        server_url = os.environ.get("BENCH_POSTGRES_URL") or own_server
        async with seed.database(server_url, "profile") as url:
            await seed.seed_service(url, args.notes)
            server = servers.Server(servers.service(url), Path(log_dir))
            try:
                server.wait_ready("/notes/1")
                run_wrk(server.base_url, workload, seconds=3, connections=8, max_id=args.notes)
                load = threading.Thread(
                    target=run_wrk,
                    args=(server.base_url, workload),
                    kwargs={
                        "seconds": args.seconds + 2,
                        "connections": args.connections,
                        "max_id": args.notes,
                    },
                )
                load.start()
                subprocess.run(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(server.process.pid),
                        "--rate",
                        "200",
                        "--duration",
                        str(args.seconds),
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(output),
                    ],
                    check=True,
                    capture_output=True,
                )
                load.join()
            finally:
                server.stop()
    by_layer, by_function, by_self, total = summarize_all(output.read_text())
    print(f"{total} samples of the serving process, workload {workload}\n")
    print("Self time by layer:\n\n" + table(by_layer, total, 20) + "\n")
    print("Self time by function:\n\n" + table(by_self, total, 15) + "\n")
    print("Inclusive time by function:\n\n" + table(by_function, total, 40) + "\n")
    return by_layer, total


def layer_table(layers: dict[str, tuple[Counter[str], int]]) -> str:
    """The layers' shares of the samples, one column per workload, largest first overall."""
    overall: Counter[str] = Counter()
    for by_layer, total in layers.values():
        overall.update({name: count / total for name, count in by_layer.items()})
    lines = [
        "| layer | " + " | ".join(layers) + " |",
        "|---|" + "--:|" * len(layers),
    ]
    for name, _ in overall.most_common():
        shares = (by_layer[name] / total for by_layer, total in layers.values())
        lines.append(f"| {name} | " + " | ".join(f"{share:.0%}" for share in shares) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    asyncio.run(main())
