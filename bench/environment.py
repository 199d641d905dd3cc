"""What the numbers were measured on: the machine, how busy it was, the versions."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def busy_share(seconds: float = 3.0) -> float:
    """The share of all CPUs busy over `seconds` (other people's work, before we start)."""

    def times() -> tuple[int, int]:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    total0, idle0 = times()
    time.sleep(seconds)
    total1, idle1 = times()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _uncommitted_changes() -> bool:
    """Whether tracked files differ from HEAD (the results the benchmark writes aside)."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
         ":!bench/results.md", ":!bench/results.json", ":!README.md"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return bool(done.stdout.strip())


def code(machine: dict[str, object]) -> str:
    """The measured code: `commit`, and whether the working tree had changes on top."""
    changes = " with uncommitted changes" if machine.get("uncommitted_changes") else ""
    return f"`{machine['commit']}`{changes}"


async def describe(server_url: str) -> dict[str, object]:
    connection = await asyncpg.connect(server_url)
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
        "uncommitted_changes": _uncommitted_changes(),
        "cpu": f"{os.cpu_count()} x {_cpu_model()}",
        "python": platform.python_version(),
        "postgres": version,
        "load_before": load_average(),
        "busy_before": f"{busy_share():.0%}",
    }


def markdown(machine: dict[str, object], args: argparse.Namespace) -> str:
    return (
        f"Measured {machine['date']} at commit {code(machine)} on {machine['cpu']} "
        f"(PostgreSQL {machine['postgres']} on the same machine, Python {machine['python']}). "
        f"{args.rounds} rounds of {args.seconds:g} s per app and workload, "
        f"{args.connections} connections, {args.notes:,} seeded notes"
        f"{_against(machine)}. Load before the run: "
        f"CPUs {machine['busy_before']} busy, load average {machine['load_before']}; "
        f"after: load average {machine.get('load_after', '?')}."
    )


def _against(machine: dict[str, object]) -> str:
    against = machine.get("against")
    if not isinstance(against, dict):
        return ""
    return f"; the service also at `{against['rev']}` (`{against['commit']}`), same settings"


def replace_results_section(document: Path, text: str) -> None:
    content = document.read_text()
    start, end = content.index(START) + len(START), content.index(END)
    document.write_text(content[:start] + "\n" + text + content[end:])
