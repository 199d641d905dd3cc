"""Benchmark the service against the FastAPI docs example (baseline) and raw asyncpg (ceiling),
or against itself at another git revision (--against).

    uv run --group bench python -m bench.run            full run (about 12 minutes)
    uv run --group bench python -m bench.run --quick    harness check (about a minute)
    python3 scripts/dev.py bench --against main         the working tree's service against
                                                        main's (about 6 minutes; --quick: 1)

Each app gets its own database, seeded, on a PostgreSQL cluster the run starts for itself
(initdb/pg_ctl on a free port, removed at the end; see bench/cluster.py), or on the server
at BENCH_POSTGRES_URL when that is set (databases created under unique names, dropped at
the end). The apps run side by side as real uvicorn processes (one worker,
uvloop, httptools) and wrk loads one at a time, the apps' order rotating every round so
that background noise falls on all of them alike. Writes bench/results.md (and, with
--docs, the results section of docs/performance.md) and bench/results.json.

--against REV (any git revision: main, a292586, HEAD~3) adds "service@REV": that revision
checked out in a temporary git worktree with a virtualenv from its own uv.lock, its
database migrated by its own `python -m service migrate` and seeded like the service's,
served by its own `python -m service serve` with the same settings (bench/revision.py; the
worktree is removed at the end, also on failure). It takes its turn in every round like
any other app, and the report puts it beside the service for each workload: req/s, the
service's req/s as a share of its, p99 and CPU per request (the framework's floor,
`GET /health/live`, included). `--against HEAD` on a clean tree measures the service
against itself: how far apart two equal apps land is the noise of the run.
`--against` may be given several times: each revision takes its turn in the same rounds, so a
series of changes is measured in one interleaved run (`--against A --against B`: the code
before each change, and the working tree after the last).

--apps picks the apps, comma-separated, from: service (always), baseline and ceiling (the
two together: the targets compare the service with both), bare (the ceiling app without its
access log: no cross-cutting work at all), naive (the tortoise-orm `examples/fastapi` shape,
bench/naive_app.py; bare and naive go together: the observability targets compare the service
with both), workers (the service with 2
uvicorn workers), deep (the service on --deep-notes notes, for the deep-page check) and
against. The default is all but against; with --against it is `service,against`, which
keeps a comparison short (only the two apps take turns), since the other parts compare
the service with other code, not with its past; name them to have them too, e.g.
`--apps service,against,baseline,ceiling`. The revision is measured with one worker and
not on deep pages. --no-workers and --deep-notes 0 still leave those parts out.

--service-env NAME=VALUE (repeatable) starts the working tree's service (one worker) with
that variable too; --otlp-sink turns its tracing on, exporting to an OTLP/HTTP endpoint the
run serves itself, which accepts and discards the spans (what tracing costs the service,
without a collector's CPU): `--against main --otlp-sink` is tracing on against main.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
from contextlib import AsyncExitStack
from dataclasses import asdict, replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bench import cluster, environment, report, revision, seed, servers
from bench.load import Measurement, find_wrk, run_wrk
from bench.otlp_sink import otlp_sink

ROOT = Path(__file__).resolve().parent.parent
APPS = ("service", "baseline", "ceiling", "bare", "naive", "workers", "deep", "against")
DEEP = "service-deep"
DEEP_PAGES = {  # label -> (first page, a page ~1,000 notes from the far end of the table)
    "ascending": ("/notes/?limit=50", "/notes/?limit=50&after={deep}"),
    "descending": ("/notes/?limit=50&order=desc", "/notes/?limit=50&order=desc&after=1051"),
    "completed=true": (
        "/notes/?limit=50&completed=true",
        "/notes/?limit=50&completed=true&after={deep}",
    ),
}


def app_names(text: str) -> set[str]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(APPS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown app(s) {', '.join(sorted(unknown))}; choose from {', '.join(APPS)}"
        )
    return names


def env_pair(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds per app and workload")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--deep-notes", type=int, default=1_000_000, help="0 skips the check")
    parser.add_argument("--deep-seconds", type=float, default=5)
    parser.add_argument("--no-workers", action="store_true", help="skip the 2-worker run")
    parser.add_argument(
        "--against",
        metavar="REV",
        action="append",
        default=[],
        help="also measure the service at this git revision (repeatable: several revisions "
        "take their turns in one interleaved run, e.g. one per change)",
    )
    parser.add_argument(
        "--apps",
        type=app_names,
        help=f"comma-separated, from {','.join(APPS)} (default: all but against; "
        "with --against: service,against)",
    )
    parser.add_argument(
        "--service-env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        type=env_pair,
        help="an environment variable for the working tree's service (repeatable), "
        "e.g. OTEL_TRACES_SAMPLER=always_off",
    )
    parser.add_argument(
        "--otlp-sink",
        action="store_true",
        help="trace the working tree's service, exporting to an OTLP/HTTP endpoint the run "
        "starts, which accepts and discards the spans",
    )
    parser.add_argument(
        "--docs", action="store_true", help="update docs/performance.md's results section"
    )
    parser.add_argument("--quick", action="store_true", help="a short run to check the harness")
    if parser.parse_args().quick:  # shorter defaults; options given explicitly still win
        parser.set_defaults(
            rounds=1, seconds=2, warmup=1, deep_seconds=1, notes=10_000, deep_notes=100_000
        )
    args = parser.parse_args()
    apps: set[str] = args.apps or (
        {"service", "against"} if args.against else set(APPS) - {"against"}
    )
    if args.no_workers:
        apps.discard("workers")
    if not args.deep_notes:
        apps.discard("deep")
    if args.against:
        apps.add("against")
    elif "against" in apps:
        parser.error("--apps against needs --against REV")
    if "service" not in apps:
        parser.error("--apps must include service: everything is compared with it")
    if ("baseline" in apps) != ("ceiling" in apps):
        parser.error("--apps: baseline and ceiling go together (the targets need both)")
    if ("bare" in apps) != ("naive" in apps):
        parser.error("--apps: bare and naive go together (the targets need both)")
    if args.docs and not {"baseline", "ceiling", "bare", "naive"} <= apps:
        parser.error(
            "--docs needs baseline, ceiling, bare and naive (docs/performance.md's tables "
            "show them)"
        )
    args.apps = apps
    return args


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: servers, databases, cluster, worktree


async def main() -> None:
    args = options()
    find_wrk()
    signal.signal(signal.SIGTERM, _stop)
    if args.against and (ROOT / ".env").exists():
        print("note: .env configures the working tree's service, not the revision's")
    async with AsyncExitStack() as stack:
        checkouts = [stack.enter_context(revision.checked_out(rev)) for rev in args.against]
        server_url = os.environ.get("BENCH_POSTGRES_URL") or stack.enter_context(
            cluster.throwaway_cluster()
        )
        machine = await environment.describe(server_url)
        if checkouts:
            machine["against"] = [
                {"rev": checkout.rev, "commit": checkout.commit} for checkout in checkouts
            ]
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        urls = {}
        for label in ("service", "baseline", "ceiling", "bare", "naive", "deep"):
            if label in args.apps:
                urls[label] = await stack.enter_async_context(seed.database(server_url, label))
        for checkout in checkouts:
            urls[checkout.name] = await stack.enter_async_context(
                seed.database(server_url, "against")
            )
        print("seeding", flush=True)
        await seed.seed_service(urls["service"], args.notes)
        for checkout in checkouts:
            await seed.seed_service(
                urls[checkout.name], args.notes, str(checkout.python), checkout.root
            )
        if "ceiling" in urls:
            await seed.seed_service(urls["ceiling"], args.notes)
            await seed.seed_baseline(urls["baseline"], args.notes)
        for label in ("bare", "naive"):
            if label in urls:
                await seed.seed_service(urls[label], args.notes)
        if "deep" in urls:
            await seed.seed_service(urls["deep"], args.deep_notes)
        extra_env = dict(args.service_env)
        if args.otlp_sink:
            extra_env.setdefault("OTEL_EXPORTER_OTLP_ENDPOINT", stack.enter_context(otlp_sink()))
        service_spec = servers.service(urls["service"])
        service_spec = replace(service_spec, env={**service_spec.env, **extra_env})
        specs = [(service_spec, "service")]  # (app, its database's label)
        for checkout in checkouts:
            python, root = str(checkout.python), checkout.root
            specs.append(
                (
                    servers.service(urls[checkout.name], 1, checkout.name, python, root),
                    checkout.name,
                )
            )
        if "ceiling" in urls:
            specs.append((servers.baseline(urls["baseline"]), "baseline"))
            specs.append((servers.ceiling(urls["ceiling"]), "ceiling"))
        if "bare" in urls:
            specs.append((servers.bare(urls["bare"]), "bare"))
            specs.append((servers.naive(urls["naive"]), "naive"))
        if "workers" in args.apps:
            specs.append((servers.service(urls["service"], 2, name="service-2-workers"), "service"))
        if "deep" in urls:
            specs.append((servers.service(urls["deep"], name=DEEP), "deep"))
        running = {spec.name: servers.Server(spec, log_dir) for spec, _ in specs}
        databases = {spec.name: urlsplit(urls[label]).path.lstrip("/") for spec, label in specs}
        try:
            for server in running.values():
                stack.callback(server.stop)
            for server in running.values():
                server.wait_ready("/notes/1")
            against = [checkout.name for checkout in checkouts]
            results = await measure(args, running, server_url, databases, against)
            peak_rss = {name: server.peak_rss_bytes() for name, server in running.items()}
        except BaseException:
            for server in running.values():
                server.stop()
                print(f"--- {server.spec.name} log (tail)\n{server.log_path.read_text()[-3000:]}")
            raise
    machine["load_after"] = environment.load_average()
    write(args, machine, results, peak_rss, checkouts)


async def measure(
    args: argparse.Namespace,
    running: dict[str, servers.Server],
    server_url: str,
    databases: dict[str, str],
    against: list[str],
) -> dict[str, dict[str, list[Measurement]]]:
    """Every app on every workload, round after round; `databases`: each app's database name
    (for its PostgreSQL backends' CPU time); `against`: the other revisions' apps."""
    apps = [name for name in running if name != DEEP]
    floor_apps = ["service", *against]
    width = max(map(len, running))
    results: dict[str, dict[str, list[Measurement]]] = {}
    admin = await asyncpg.connect(server_url)

    async def backend_pids(app: str) -> list[int]:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
        return [row["pid"] for row in await admin.fetch(query, databases[app])]

    async def one(app: str, workload: str, seconds: float, path: str = "", key: str = "") -> None:
        max_id = args.deep_notes if app == DEEP else args.notes
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
            f"{app:{width}} {key or workload:28} {m.requests_per_second:9,.0f} req/s  "
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
    if DEEP in running:
        for path in deep_paths.values():
            run_wrk(
                running[DEEP].base_url,
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
            for app in [app for app in order if app in floor_apps]:
                await one(app, "path", args.seconds, path="/health/live", key="floor")
            if DEEP in running:
                for key, path in deep_paths.items():
                    await one(DEEP, "path", args.deep_seconds, path=path, key=key)
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
    checkouts: list[revision.Checkout],
) -> None:
    summaries = {
        app: {key: report.summarize(rounds) for key, rounds in by_key.items()}
        for app, by_key in measurements.items()
    }
    floor = summaries["service"]["floor"]
    sections = [environment.markdown(machine, args)]
    for checkout in checkouts:
        sections.append(
            f"**The service against {checkout.name}** (the working tree at "
            f"{environment.code(machine)} against `{checkout.rev}` at `{checkout.commit}`, "
            "interleaved, medians over the rounds; the ratio is the service's req/s as a "
            f"share of {checkout.name}'s):\n\n"
            + report.against_table("service", checkout.name, summaries)
        )
    floor_text = (
        f"**The framework's floor:** the service answering `GET /health/live` (FastAPI, the "
        "middleware, no database, no dependency) served "
        f"{floor.requests_per_second:,.0f} req/s at {floor.server_cpu_ms * 1000:.0f} µs of app "
        "CPU per request"
    )
    if "ceiling" in summaries:
        main_apps = {app: summaries[app] for app in ("service", "baseline", "ceiling")}
        sections += [
            "**Service against baseline and ceiling** (medians over the rounds):\n\n"
            + report.comparison_table(main_apps),
            "**Targets:**\n\n" + report.targets_table(report.targets(main_apps, peak_rss)),
            f"{floor_text}, against the ceiling's "
            f"{main_apps['ceiling']['read'].requests_per_second:,.0f} req/s for a whole point "
            "read.",
        ]
    else:
        sections.append(f"{floor_text}.")
    if "bare" in summaries:
        sections += [
            "**Observability at near-zero cost:** the service (logs, metrics and request ids "
            "on) against the bare ceiling (the ceiling app without an access log: no "
            "cross-cutting work) and the naive Tortoise app (bench/naive_app.py), medians over "
            "the rounds:\n\n" + report.observability_table(summaries),
            "**Observability targets:**\n\n"
            + report.targets_table(report.observability_targets(summaries, peak_rss)),
        ]
    sections.append(
        "**Peak resident memory** (VmHWM of the serving process over the whole run):\n\n"
        + report.rss_table(peak_rss)
    )
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
    if DEEP in summaries:
        deep = summaries[DEEP]
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
    if args.docs:
        environment.replace_results_section(ROOT / "docs" / "performance.md", text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
