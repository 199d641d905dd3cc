"""Property-based contract fuzzing: schemathesis against the live service's /openapi.json.

It runs every phase (the documented examples, coverage of each schema's edges, random
fuzzing, and stateful sequences that follow the OpenAPI links from create_note) with every
built-in check, configured in `tests/schemathesis.toml`: deterministic and bounded, on
whichever backend this run of the suite uses. Zero failures is the bar; each bug it found
is pinned down by a named regression test elsewhere (docs/api.md, "Hostile input and limits").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from service.api_keys import digest_of, generate_key
from service.config import Settings
from tests.databases import backend
from tests.servers import REPO_ROOT, Server, running_server

pytestmark = pytest.mark.live  # schemathesis against real servers

CONFIG = REPO_ROOT / "tests" / "schemathesis.toml"
HOOKS = REPO_ROOT / "tests" / "fuzz_hooks.py"  # control characters and NUL in queries, headers
TIMEOUT_SECONDS = 240
_NOTE_PATH = re.compile(r"^/notes/(?!changes$)[^/]+$")  # the feed is a path of its own


def run_schemathesis(
    server: Server, report_dir: Path, *options: str
) -> subprocess.CompletedProcess[str]:
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
        *options,
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=report_dir,  # nothing it writes lands in the repository
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
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


_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")


def control_characters_sent(har_path: Path) -> Counter[str]:
    """How many requests carried a control character in the query string (and NUL), or a
    TAB or non-ASCII byte in a header value: the hooks' work, seen on the wire."""
    sent: Counter[str] = Counter()
    for entry in json.loads(har_path.read_text())["log"]["entries"]:
        query = urlsplit(entry["request"]["url"]).query
        sent["query"] += bool(_ENCODED_CONTROL.search(query))
        searched = [v for k, v in parse_qsl(query) if k in ("q", "search")]
        sent["NUL in q or search"] += any("\x00" in value for value in searched)
        values = [header["value"] for header in entry["request"]["headers"]]
        sent["header"] += any("\t" in v or any(ord(c) > 0x7F for c in v) for v in values)
    return sent


def documented_operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in openapi["paths"].items() for method in item}


def fuzz(server: Server, report_dir: Path, *options: str) -> tuple[int, Counter[str]]:
    """Run schemathesis; fail with its report unless every phase passed every check.
    Returns how many cases it generated and the requests per operation."""
    openapi = httpx.get(f"{server.base_url}/openapi.json").json()
    result = run_schemathesis(server, report_dir, *options)
    output = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, output

    report = json.loads(next(report_dir.glob("json-*.json")).read_text())
    assert report["complete"] is True, output
    assert report["test_cases"]["with_failures"] == 0, output
    assert report["test_cases"]["errored"] == 0, output
    operations = documented_operations(openapi)
    assert report["operations"]["tested"] == len(operations), output
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert report["phases"][phase]["status"] == "success", (phase, output)

    har_path = next(report_dir.glob("har-*.json"))
    counts = requests_per_operation(har_path, operations)
    sent = control_characters_sent(har_path)
    assert sent["query"] > 0, sent
    assert sent["NUL in q or search"] > 0, sent
    assert sent["header"] > 0, sent
    for method, path in operations:
        assert counts[f"{method} {path}"] > 0, f"{method} {path} was never called"
    generated: int = report["test_cases"]["generated"]
    return generated, counts


def show(
    title: str, generated: int, counts: Counter[str], capsys: pytest.CaptureFixture[str]
) -> None:
    table = "\n".join(f"  {count:5d}  {operation}" for operation, count in sorted(counts.items()))
    with capsys.disabled():
        print(
            f"\nschemathesis on {backend()}, {title}: {generated} generated cases, 0 failures; "
            f"requests per operation:\n{table}",
            flush=True,
        )


def test_the_live_service_keeps_its_openapi_contract(
    live_server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generated, counts = fuzz(live_server, tmp_path)
    show("authentication off", generated, counts, capsys)


def test_the_live_service_keeps_its_contract_with_authentication_on(
    settings: Settings, tmp_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With API keys configured: the 401s and the bearer scheme are documented truthfully,
    and no operation ignores the credentials (schemathesis's `ignored_auth` check)."""
    key = generate_key()
    env = {"DATABASE_URL": settings.DATABASE_URL, "API_KEYS": f"fuzzer:{digest_of(key)}"}
    with running_server(env, tmp_dir) as server:
        generated, counts = fuzz(
            server, tmp_path, "--header", f"Authorization: Bearer {key}", "--max-examples", "10"
        )
    show("authentication on", generated, counts, capsys)


def test_control_characters_in_the_list_query_never_make_a_5xx(
    live_server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fuzzing phase alone, longer, on the route whose query reaches the database in
    SQL (`q`, `search`): NUL and control characters in its query string (see fuzz_hooks)."""
    options = ("--phases", "fuzzing", "--include-operation-id", "list_notes")
    result = run_schemathesis(live_server, tmp_path, *options, "--max-examples", "150")
    output = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, output
    report = json.loads(next(tmp_path.glob("json-*.json")).read_text())
    assert report["test_cases"]["with_failures"] == 0, output
    sent = control_characters_sent(next(tmp_path.glob("har-*.json")))
    assert sent["NUL in q or search"] > 0, sent
    with capsys.disabled():
        print(f"\nschemathesis on {backend()}, list_notes with control characters: {sent}")
