"""Set up and run the notes service from a fresh clone, with nothing but Python 3.11+.

    python3 scripts/dev.py serve    install, migrate the SQLite default, serve on 127.0.0.1:8000
    python3 scripts/dev.py test     install, run the whole test suite on SQLite and PostgreSQL
    python3 scripts/dev.py check    install, run ruff and mypy
    python3 scripts/dev.py audit    pip-audit the locked runtime dependencies
    python3 scripts/dev.py bench    install the bench group, run the benchmark (bench/run.py)

Dependencies come from uv.lock (uv itself is installed into .tools/ if it is not on PATH).
For the PostgreSQL run, `test` uses TEST_POSTGRES_URL (default: the local server on
127.0.0.1:5432); when that does not answer, it starts a throwaway cluster with the local
`initdb`/`pg_ctl`. Without either, it fails under CI=true and otherwise skips that run,
saying so. It installs Debian's `chromium` for the docs UI's browser test when missing (as
root, with apt-get). Extra arguments after `test` go to pytest, e.g. `test -k listing -x`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import venv
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
UV_VERSION = "0.13.8"
CHROMIUM = "/usr/bin/chromium"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    tools = ROOT / ".tools"
    binary = tools / "bin" / "uv"
    if not binary.exists():
        say(f"installing uv {UV_VERSION} into .tools/")
        venv.create(tools, with_pip=True)
        run([str(tools / "bin" / "python"), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"])
    return str(binary)


def run(command: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.call(command, cwd=ROOT, env=env)


def sync() -> str:
    tool = uv()
    say("installing the locked dependencies into .venv/")
    if run([tool, "sync", "--locked", "--quiet"]) != 0:
        sys.exit("dependency installation failed")
    return tool


def serve() -> int:
    tool = sync()
    say("migrating and serving on http://127.0.0.1:8000 (docs at /docs); Ctrl-C stops")
    return run([tool, "run", "--locked", "python", "-m", "service", "serve", "--migrate"])


def bench(bench_args: list[str]) -> int:
    """The benchmark (see bench/run.py; needs wrk and PostgreSQL); arguments go to it."""
    tool = uv()
    say("installing the locked dependencies and the bench group into .venv/")
    if run([tool, "sync", "--locked", "--quiet", "--group", "bench"]) != 0:
        sys.exit("dependency installation failed")
    return run(
        [tool, "run", "--locked", "--group", "bench", "python", "-m", "bench.run", *bench_args]
    )


def check() -> int:
    tool = sync()
    status = 0
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        say(" ".join(command))
        status |= run([tool, "run", "--locked", *command])
    return status


def audit() -> int:
    """Known vulnerabilities in what the container ships (uv.lock without dev tools).

    Fails on any known vulnerability. A package the vulnerability service cannot answer for
    (no network, a mirror without PyPI's per-release JSON API) is reported; it fails the run
    only with AUDIT_STRICT=true, since a closed network would otherwise block every change.
    """
    tool = sync()
    with tempfile.TemporaryDirectory() as scratch:
        requirements, report = Path(scratch, "requirements.txt"), Path(scratch, "audit.json")
        export = [tool, "export", "--locked", "--no-dev", "--no-hashes", "--quiet"]
        if run([*export, "--format", "requirements-txt", "-o", str(requirements)]) != 0:
            return 1
        say("pip-audit on the locked runtime dependencies")
        pip_audit = ["pip-audit", "-r", str(requirements), "--no-deps", "--disable-pip"]
        run(
            [
                tool,
                "run",
                "--locked",
                *pip_audit,
                "--progress-spinner",
                "off",
                "-f",
                "json",
                "-o",
                str(report),
            ]
        )
        if not report.exists():
            print("pip-audit produced no report")
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unaudited = [d["name"] for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        ids = ", ".join(vuln["id"] for vuln in dependency["vulns"])
        print(f"VULNERABLE {dependency['name']} {dependency['version']}: {ids}")
    audited = len(dependencies) - len(unaudited)
    print(f"audit: {audited} of {len(dependencies)} packages audited, {len(vulnerable)} vulnerable")
    if unaudited:
        print(f"not audited (vulnerability data unreachable): {', '.join(unaudited)}")
    strict = os.environ.get("AUDIT_STRICT", "").lower() == "true"
    return 1 if vulnerable or (unaudited and strict) else 0


def ensure_chromium() -> None:
    """The docs UI's browser test drives Debian's Chromium (browser downloads are blocked)."""
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        say(f"{CHROMIUM} is missing and cannot be installed here; the browser test will say so")
        return
    say("installing Debian's chromium for the docs UI's browser test")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium"]
    if subprocess.call(install, env=env, stdout=subprocess.DEVNULL) != 0:
        run(["apt-get", "update", "-q"], env=env)
        run(install, env=env)


def test(pytest_args: list[str]) -> int:
    tool = sync()
    ensure_chromium()
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    status = 0
    with postgres_url() as url, tempfile.TemporaryDirectory() as reports:
        backends = ["sqlite"] + (["postgres"] if url else [])
        for backend in backends:
            say(f"pytest on {backend}")
            report = Path(reports, f"{backend}.xml")
            env = {**os.environ, "TEST_DATABASE": backend, "TEST_POSTGRES_URL": url or ""}
            command = [tool, "run", "--locked", "pytest", f"--junitxml={report}", *pytest_args]
            status |= run(command, env=env)
            for key, value in counts(report).items():
                totals[key] += value
    if totals["passed"] == 0:
        status |= 1
    print(
        f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped"
    )
    return status


def counts(report: Path) -> dict[str, int]:
    if not report.exists():
        return {"passed": 0, "failed": 1, "skipped": 0}
    suite = ET.parse(report).getroot()  # noqa: S314 (our own pytest's report)
    suite = suite if suite.tag == "testsuite" else suite[0]
    total, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
    failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    return {"passed": total - failed - skipped, "failed": failed, "skipped": skipped}


@contextmanager
def postgres_url() -> Iterator[str | None]:
    url = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    if answers(url):
        yield url
        return
    binaries = postgres_binaries()
    if binaries is None:
        message = f"PostgreSQL does not answer at {url} and initdb/pg_ctl are not installed"
        if IN_CI:
            sys.exit(f"{message}: under CI=true that is a failure.")
        say(f"WARNING: {message}; running the suite on SQLite ONLY.")
        yield None
        return
    with throwaway_cluster(binaries) as cluster_url:
        yield cluster_url


def answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def postgres_binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


@contextmanager
def throwaway_cluster(binaries: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="notes-pg-") as directory:
        data = Path(directory, "data")
        say(f"starting a throwaway PostgreSQL cluster on port {port}")
        run([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-N"])
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                f"{directory}/log",
                "start",
            ]
        )
        try:
            yield f"postgres://postgres@127.0.0.1:{port}/postgres"
        finally:
            run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test", "check", "audit", "bench"):
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "serve":
        return serve()
    if command == "check":
        return check()
    if command == "audit":
        return audit()
    if command == "bench":
        return bench(rest)
    return test(rest)


if __name__ == "__main__":
    sys.exit(main())
