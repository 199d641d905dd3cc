"""Property-based contract fuzzing: schemathesis against the live service's /openapi.json.

It runs every phase (the documented examples, coverage of each schema's edges, random
fuzzing, and stateful sequences that follow the OpenAPI links from create_note) with every
built-in check, configured in `tests/schemathesis.toml`: deterministic and bounded, on
whichever backend this run of the suite uses. Zero failures is the bar; each bug it found
is pinned down by a named regression test elsewhere (see the README's "Hostile input").
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.databases import backend
from tests.servers import REPO_ROOT, Server

CONFIG = REPO_ROOT / "tests" / "schemathesis.toml"
TIMEOUT_SECONDS = 240
_NOTE_PATH = re.compile(r"^/notes/[^/]+$")


def run_schemathesis(server: Server, report_dir: Path) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{server.base_url}/openapi.json",
        "--report",
        "har,json",
        "--report-dir",
        str(report_dir),
        "--output-truncate",
        "true",
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=report_dir,  # nothing it writes lands in the repository
        check=False,
    )


def requests_per_operation(har_path: Path, documented: set[tuple[str, str]]) -> Counter[str]:
    """How many generated requests each documented operation received; the rest (methods
    the API does not serve, sent to check the 405s) are counted together."""
    counts: Counter[str] = Counter()
    for entry in json.loads(har_path.read_text())["log"]["entries"]:
        method = entry["request"]["method"]
        path = urlsplit(entry["request"]["url"]).path
        path = "/notes/{note_id}" if _NOTE_PATH.match(path) else path
        key = f"{method} {path}"
        counts[key if (method, path) in documented else "other methods (405 expected)"] += 1
    return counts


def documented_operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in openapi["paths"].items() for method in item}


def test_the_live_service_keeps_its_openapi_contract(
    live_server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openapi = httpx.get(f"{live_server.base_url}/openapi.json").json()
    result = run_schemathesis(live_server, tmp_path)
    output = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, output

    report = json.loads(next(tmp_path.glob("json-*.json")).read_text())
    assert report["complete"] is True, output
    assert report["test_cases"]["with_failures"] == 0, output
    assert report["test_cases"]["errored"] == 0, output
    operations = documented_operations(openapi)
    assert report["operations"]["tested"] == len(operations), output
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert report["phases"][phase]["status"] == "success", (phase, output)

    counts = requests_per_operation(next(tmp_path.glob("har-*.json")), operations)
    for method, path in operations:
        assert counts[f"{method} {path}"] > 0, f"{method} {path} was never called"
    total = report["test_cases"]["generated"]
    table = "\n".join(f"  {count:5d}  {operation}" for operation, count in sorted(counts.items()))
    with capsys.disabled():
        print(
            f"\nschemathesis on {backend()}: {total} generated cases, 0 failures; "
            f"requests per operation:\n{table}",
            flush=True,
        )
