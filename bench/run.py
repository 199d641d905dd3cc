"""Benchmark the service against the FastAPI docs example (baseline) and raw asyncpg (ceiling).

    uv run --group bench python -m bench.run            full run (about 12 minutes)
    uv run --group bench python -m bench.run --quick    harness check (about a minute)

Each app gets its own database, seeded, on a PostgreSQL cluster the run starts for itself
(initdb/pg_ctl on a free port, removed at the end; see bench/cluster.py), or on the server
at BENCH_POSTGRES_URL when that is set (databases created under unique names, dropped at
the end). The apps run side by side as real uvicorn processes (one worker,
uvloop, httptools) and wrk loads one at a time, the apps' order rotating every round so
that background noise falls on all of them alike. Writes bench/results.md (and, with
--readme, the Performance section of README.md) and bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from contextlib import AsyncExitStack
from dataclasses import asdict, replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bench import cluster, environment, report, seed, servers
from bench.load import Measurement, find_wrk, run_wrk

ROOT = Path(__file__).resolve().parent.parent
DEEP_PAGES = {  # label -> (first page, a page ~1,000 notes from the far end of the table)
    "ascending": ("/notes/?limit=50", "/notes/?limit=50&after={deep}"),
    "descending": ("/notes/?limit=50&order=desc", "/notes/?limit=50&order=desc&after=1051"),
    "completed=true": (
        "/notes/?limit=50&completed=true",
        "/notes/?limit=50&completed=true&after={deep}",
    ),
}


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds per app and workload")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--deep-notes", type=int, default=1_000_000, help="0 skips the check")
    parser.add_argument("--deep-seconds", type=float, default=5)
    parser.add_argument("--no-workers", action="store_true", help="skip the 2-worker run")
    parser.add_argument("--readme", action="store_true", help="update README.md's section")
    parser.add_argument("--quick", action="store_true", help="a short run to check the harness")
    if parser.parse_args().quick:  # shorter defaults; options given explicitly still win
        parser.set_defaults(
            rounds=1, seconds=2, warmup=1, deep_seconds=1, notes=10_000, deep_notes=100_000
        )
    return parser.parse_args()


async def main() -> None:
    args = options()
    find_wrk()
    async with AsyncExitStack() as stack:
        server_url = os.environ.get("BENCH_POSTGRES_URL") or stack.enter_context(
            cluster.throwaway_cluster()
        )
        machine = await environment.describe(server_url)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        urls = {}
        for label in ("service", "baseline", "ceiling") + (("deep",) if args.deep_notes else ()):
            urls[label] = await stack.enter_async_context(seed.database(server_url, label))
        print("seeding", flush=True)
        await seed.seed_service(urls["service"], args.notes)
        await seed.seed_service(urls["ceiling"], args.notes)
        await seed.seed_baseline(urls["baseline"], args.notes)
        if args.deep_notes:
            await seed.seed_service(urls["deep"], args.deep_notes)
        specs = [
            servers.service(urls["service"]),
            servers.baseline(urls["baseline"]),
            servers.ceiling(urls["ceiling"]),
        ]
        if not args.no_workers:
            specs.append(servers.service(urls["service"], workers=2, name="service-2-workers"))
        if args.deep_notes:
            specs.append(servers.service(urls["deep"], name="service-deep"))
        running = {spec.name: servers.Server(spec, log_dir) for spec in specs}
        try:
            for server in running.values():
                stack.callback(server.stop)
            for server in running.values():
                server.wait_ready("/notes/1")
            results = await measure(args, running, server_url, urls)
            peak_rss = {name: server.peak_rss_bytes() for name, server in running.items()}
        except BaseException:
            for server in running.values():
                server.stop()
                print(f"--- {server.spec.name} log (tail)\n{server.log_path.read_text()[-3000:]}")
            raise
    machine["load_after"] = environment.load_average()
    write(args, machine, results, peak_rss)


async def measure(
    args: argparse.Namespace,
    running: dict[str, servers.Server],
    server_url: str,
    urls: dict[str, str],
) -> dict[str, dict[str, list[Measurement]]]:
    apps = [name for name in running if name != "service-deep"]
    results: dict[str, dict[str, list[Measurement]]] = {}
    admin = await asyncpg.connect(server_url)
    labels = {name: "deep" if name == "service-deep" else name.split("-")[0] for name in running}
    databases = {name: urlsplit(urls[labels[name]]).path.lstrip("/") for name in running}

    async def backend_pids(app: str) -> list[int]:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
        return [row["pid"] for row in await admin.fetch(query, databases[app])]

    async def one(app: str, workload: str, seconds: float, path: str = "", key: str = "") -> None:
        max_id = args.deep_notes if app == "service-deep" else args.notes
        server_before = servers.cpu_seconds(running[app].pids())
        db_before = servers.cpu_seconds(await backend_pids(app))
        m = run_wrk(
            running[app].base_url,
            workload,
            seconds=seconds,
            connections=args.connections,
            max_id=max_id,
            path=path,
        )
        server_after = servers.cpu_seconds(running[app].pids())
        db_after = servers.cpu_seconds(await backend_pids(app))
        m = replace(
            m,
            server_cpu_ms=_used(server_before, server_after) * 1000 / max(1, m.requests),
            db_cpu_ms=_used(db_before, db_after) * 1000 / max(1, m.requests),
        )
        results.setdefault(app, {}).setdefault(key or workload, []).append(m)
        print(
            f"{app:18} {key or workload:28} {m.requests_per_second:9,.0f} req/s  "
            f"p50 {m.p50_ms:6.1f} ms  p99 {m.p99_ms:6.1f} ms  errors {m.errors}  "
            f"CPU/req app {m.server_cpu_ms * 1000:4.0f} µs, db {m.db_cpu_ms * 1000:4.0f} µs",
            flush=True,
        )

    deep_paths = {
        f"{label} {which}": path.format(deep=args.deep_notes - 1000)
        for label, pages in DEEP_PAGES.items()
        for which, path in zip(("first", "deep"), pages, strict=True)
    }
    print("warming up", flush=True)
    for app in apps:
        for workload in report.WORKLOADS:
            run_wrk(
                running[app].base_url,
                workload,
                seconds=args.warmup,
                connections=8,
                max_id=args.notes,
            )
    if "service-deep" in running:
        for path in deep_paths.values():
            run_wrk(
                running["service-deep"].base_url,
                "path",
                seconds=args.warmup,
                connections=8,
                path=path,
            )
    try:
        for round_number in range(args.rounds):
            print(f"round {round_number + 1} of {args.rounds}", flush=True)
            order = apps[round_number % len(apps) :] + apps[: round_number % len(apps)]
            for workload in report.WORKLOADS:
                for app in order:
                    await one(app, workload, args.seconds)
            # The framework's floor: the service's cheapest route, no database, no dependency.
            await one("service", "path", args.seconds, path="/health/live", key="floor")
            if "service-deep" in running:
                for key, path in deep_paths.items():
                    await one("service-deep", "path", args.deep_seconds, path=path, key=key)
    finally:
        await admin.close()
    return results


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two samples (a process that started in between counts whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def write(
    args: argparse.Namespace,
    machine: dict[str, object],
    measurements: dict[str, dict[str, list[Measurement]]],
    peak_rss: dict[str, int],
) -> None:
    summaries = {
        app: {key: report.summarize(rounds) for key, rounds in by_key.items()}
        for app, by_key in measurements.items()
    }
    floor = summaries["service"].pop("floor")
    main_apps = {app: summaries[app] for app in ("service", "baseline", "ceiling")}
    sections = [
        environment.markdown(machine, args),
        "**Service against baseline and ceiling** (medians over the rounds):\n\n"
        + report.comparison_table(main_apps),
        "**Targets:**\n\n" + report.targets_table(report.targets(main_apps, peak_rss)),
        f"**The framework's floor:** the service answering `GET /health/live` (FastAPI, the "
        "middleware, no database, no dependency) served "
        f"{floor.requests_per_second:,.0f} req/s at {floor.server_cpu_ms * 1000:.0f} µs of app "
        "CPU per request, against the ceiling's "
        f"{main_apps['ceiling']['read'].requests_per_second:,.0f} req/s for a whole point read.",
        "**Peak resident memory** (VmHWM of the serving process over the whole run):\n\n"
        + report.rss_table(peak_rss),
    ]
    if "service-2-workers" in summaries:
        pairs = {
            workload: {
                "1 worker": summaries["service"][workload],
                "2 workers": summaries["service-2-workers"][workload],
            }
            for workload in report.WORKLOADS
        }
        sections.append(
            "**1 vs 2 uvicorn workers** (the service):\n\n"
            + report.pair_table("workload", "1 worker", "2 workers", pairs)
        )
    if "service-deep" in summaries:
        deep = summaries["service-deep"]
        pairs = {
            label: {"first page": deep[f"{label} first"], "deep page": deep[f"{label} deep"]}
            for label in DEEP_PAGES
        }
        sections.append(
            f"**Deep pages** (the service on {args.deep_notes:,} notes; a page "
            "1,000 notes from the far end against the first page):\n\n"
            + report.pair_table("order / filter", "first page", "deep page", pairs)
        )
    text = "\n\n".join(sections) + "\n"
    (ROOT / "bench" / "results.md").write_text(text)
    raw = {
        "machine": machine,
        "measurements": {
            app: {key: [asdict(m) for m in rounds] for key, rounds in by_key.items()}
            for app, by_key in measurements.items()
        },
        "peak_rss_bytes": peak_rss,
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(raw, indent=1) + "\n")
    if args.readme:
        environment.replace_readme_section(ROOT / "README.md", text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
