"""Search workloads on a large table: what `q` and `search` cost against a plain page read.

    python3 scripts/dev.py run python -m bench.search --notes 1000000 --requests 30
    python3 scripts/dev.py run python -m bench.search --sqlite --notes 100000

PostgreSQL: a database of its own, migrated, then the search indexes dropped, `--notes` notes
inserted with one `generate_series` statement, and `EXPLAIN ANALYZE` of `q=zzzz` taken
without the indexes ("before"); then the search migration runs again on the full table
(timed: it builds the indexes concurrently) and every workload is measured through the
service (one worker), one request at a time: median and 95th percentile latency of
`--requests` requests after 3 warm-ups. SQLite: a file database seeded the same way (through
the triggers that keep its FTS5 tables). Prints a Markdown table.

Notes read "Remember to learn async DB calls! This is note number N <word> <word>": the two
words cycle through 7 and 11 (so a word is in 1/7 or 1/11 of the notes, two of them in
1/77); "zebra" is in 1 note in 100,000.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import asyncpg
import httpx

from bench.seed import NOTE_TEXT, database
from bench.servers import Server, environ_for, service

FIRST_WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
SECOND_WORDS = ["hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar"]
SECOND_WORDS += ["papa", "quebec", "romeo"]
SEARCH_MIGRATION_ROW = "DELETE FROM aerich WHERE version LIKE '%_add_search.py'"
DROP_INDEXES = "DROP INDEX notes_search_trigram; DROP INDEX notes_search_words"


def text_sql(n: str) -> str:
    """The text of note `n` as SQL (both dialects)."""
    # A CASE on the remainder: the same SQL on both dialects (SQLite has no arrays).
    pick_first = " ".join(f"WHEN {i} THEN '{w}'" for i, w in enumerate(FIRST_WORDS))
    pick_second = " ".join(f"WHEN {i} THEN '{w}'" for i, w in enumerate(SECOND_WORDS))
    return (
        f"'{NOTE_TEXT}' || {n} || ' ' || (CASE {n} % 7 {pick_first} END) || ' ' || "
        f"(CASE ({n} / 7) % 11 {pick_second} END) || "
        f"(CASE WHEN {n} % 100000 = 7 THEN ' zebra' ELSE '' END)"
    )


def workloads(notes: int) -> list[tuple[str, dict[str, str]]]:
    deep = str(notes * 9 // 10)
    middle = str(notes // 2)
    last = str(notes - 1)
    return [
        ("page (no search), after a deep id", {"after": deep}),
        ("q rare, no match: zzzz", {"q": "zzzz"}),
        (f"q rare: number {last}", {"q": f"number {last}"}),
        ("q rare + completed=true", {"q": f"number {last}", "completed": "true"}),
        ("q common: async", {"q": "async"}),
        ("q common + after (middle)", {"q": "async", "after": middle}),
        ("q common + completed + desc", {"q": "learn", "completed": "false", "order": "desc"}),
        ("q 2 characters, no match: zq", {"q": "zq"}),
        ("search rare word: zebra", {"search": "zebra"}),
        ("search rare word + completed=false", {"search": "zebra", "completed": "false"}),
        ("search common word: remember", {"search": "remember"}),
        ("search common + after (middle)", {"search": "remember", "after": middle}),
        ("search 2 words (1/77): alpha kilo", {"search": "alpha kilo"}),
        ("search phrase rare", {"search": f'"note number {last}"'}),
        ("search phrase common", {"search": '"async db calls"'}),
        ("search or + exclusion", {"search": "zebra or kilo -alpha"}),
        ("relevance rare: zebra", {"search": "zebra", "order": "relevance"}),
        ("relevance 1/77: alpha kilo", {"search": "alpha kilo", "order": "relevance"}),
        ("relevance common: remember", {"search": "remember", "order": "relevance"}),
    ]


def measure(base_url: str, params: dict[str, str], requests: int) -> tuple[float, float, str]:
    """Median and 95th percentile latency in ms, and the statuses seen."""
    durations: list[float] = []
    statuses: set[int] = set()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for attempt in range(3 + requests):
            started = time.perf_counter()
            response = client.get("/notes", params={"limit": "50", **params})
            elapsed = (time.perf_counter() - started) * 1000
            if attempt >= 3:
                durations.append(elapsed)
                statuses.add(response.status_code)
    p95 = statistics.quantiles(durations, n=20)[-1] if len(durations) > 1 else durations[0]
    return statistics.median(durations), p95, ",".join(map(str, sorted(statuses)))


def migrate(url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env={**environ_for(sys.executable), "DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


async def explain(connection: asyncpg.Connection, sql: str, *args: object) -> str:
    rows = await connection.fetch(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", *args)
    return "\n".join(row[0] for row in rows)


LIST_Q = (
    "SELECT id, text, completed, created_at, updated_at, version FROM notes"
    " WHERE owner = 'anonymous' AND text ILIKE $1 ORDER BY id LIMIT 51"
)


async def postgres_run(server_url: str, notes: int, requests: int) -> None:
    async with database(server_url, "search") as url:
        migrate(url)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(DROP_INDEXES)
            await connection.execute(SEARCH_MIGRATION_ROW)
            started = time.perf_counter()
            await connection.execute(
                "INSERT INTO notes (text, completed, created_at, updated_at, version) "
                f"SELECT {text_sql('n')}, n % 3 = 0, now(), now(), 1 "
                f"FROM generate_series(1, {int(notes)}) AS n"
            )
            await connection.execute("VACUUM ANALYZE notes")
            print(f"seeded {notes} notes in {time.perf_counter() - started:.1f} s")
            print(
                "\nBEFORE (no search index), q=zzzz:\n"
                + await explain(connection, LIST_Q, "%zzzz%")
            )
            print(f"\nsearch migration on {notes} notes: {migrate(url):.1f} s (CONCURRENTLY)")
            await connection.execute("VACUUM ANALYZE notes")
            print("\nAFTER, q=zzzz:\n" + await explain(connection, LIST_Q, "%zzzz%"))
        finally:
            await connection.close()
        serve_and_measure(url, notes, requests)


def sqlite_run(notes: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "search.sqlite3"
        url = f"sqlite://{path}"
        migrate(url)
        started = time.perf_counter()
        with closing(sqlite3.connect(path)) as db, db:
            db.execute(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
                "INSERT INTO notes (owner, text, completed, created_at, updated_at, version) "
                f"SELECT 'anonymous', {text_sql('n')}, n % 3 = 0, "
                "'2026-12-01 10:00:00+00:00', '2026-12-01 10:00:00+00:00', 1 FROM s",
                (notes,),
            )
        seconds = time.perf_counter() - started
        print(f"seeded {notes} notes (FTS5 kept by the triggers) in {seconds:.1f} s")
        serve_and_measure(url, notes, requests)


def serve_and_measure(url: str, notes: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as logs:
        server = Server(service(url), Path(logs))
        try:
            server.wait_ready("/health/ready")
            print(f"\n| workload ({notes:,} notes, limit=50) | median ms | p95 ms | status |")
            print("|---|---:|---:|---|")
            for name, params in workloads(notes):
                median, p95, statuses = measure(server.base_url, params, requests)
                print(f"| {name} | {median:.1f} | {p95:.1f} | {statuses} |", flush=True)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.sqlite:
        sqlite_run(args.notes, args.requests)
    else:
        asyncio.run(postgres_run(args.server, args.notes, args.requests))


if __name__ == "__main__":
    main()
