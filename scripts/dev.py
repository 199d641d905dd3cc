"""Set up and run the notes service from a fresh clone, with nothing but Python 3.11+.

    python3 scripts/dev.py serve                  install, migrate the SQLite default, serve on
                                                  127.0.0.1:8000
    python3 scripts/dev.py test [OPTION] [ARGS]   install, run the whole test suite on SQLite,
                                                  then on PostgreSQL; ARGS go to pytest
        --sqlite                                  only on SQLite (the fast edit-test loop)
        --postgres                                only on PostgreSQL
    python3 scripts/dev.py check                  install, run ruff check, ruff format --check,
                                                  mypy --strict, lint-imports (.importlinter)
    python3 scripts/dev.py audit                  pip-audit the locked runtime dependencies
    python3 scripts/dev.py bench [ARGS]           install the bench group, run bench/run.py
    python3 scripts/dev.py run COMMAND [ARGS]     install, then `uv run --locked COMMAND ARGS`
                                                  in .venv/ (uv run's own options may come
                                                  first, e.g. `run --group bench python ...`)
    python3 scripts/dev.py uv [ARGS]              uv itself (e.g. `uv lock`), even if not on PATH

Examples: `test --sqlite -x -k listing`, `test -m "not live"`, `test --postgres tests/api`,
`run pytest tests/test_outage.py -s`, `run python migrations/make.py --check`.

Dependencies come from uv.lock (uv itself is installed into .tools/ if it is not on PATH).
Every set-up step (uv, the dependencies, the PostgreSQL cluster) stops the command at its
first failure, saying what failed and what to do.

For the PostgreSQL run, `test` uses TEST_POSTGRES_URL (default: the local server on
127.0.0.1:5432); when nothing answers there, it starts a throwaway cluster with the local
`initdb`/`pg_ctl` on a free port (as root, PostgreSQL's programs run as the `postgres`
account, or `nobody` without one). Without either, it fails under CI=true or with
--postgres, and otherwise runs SQLite only, saying so. It installs Debian's `chromium` for the
docs UI's browser test when missing (as root, with apt-get). `test` fails when any test
fails, when pytest stops abnormally (interrupted, usage error), or when no test passed at all.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import venv
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
UV_VERSION = "0.13.8"
CHROMIUM = "/usr/bin/chromium"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgres")
# pytest's exit codes (pytest.ExitCode) other than 0 (all passed) and 1 (some failed).
PYTEST_NO_TESTS = 5
PYTEST_STOPPED = {2: "interrupted", 3: "internal error", 4: "usage error"}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def fail(what: str, todo: str) -> NoReturn:
    """Stop the command: one message saying what failed and what to do about it."""
    print(f"dev.py: FAILED: {what}\n  what to do: {todo}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def usage(status: int) -> int:
    print(__doc__, file=sys.stdout if status == 0 else sys.stderr)
    return status


def run(command: list[str], env: dict[str, str] | None = None) -> int:
    """Run a command in the project folder; its exit code (128 + N when killed by signal N).

    Ctrl-C reaches the child too (same process group): the first one lets the child finish its
    own shutdown (a server, pytest), then stops us; a second one stops the child. When we are
    stopped any other way (SIGTERM, see main), the child is stopped before our clean-up runs.
    """
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    interrupted = False
    try:
        while True:
            try:
                code = process.wait()
                break
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True
        if interrupted:
            raise KeyboardInterrupt
    except BaseException:
        stop(process)
        raise
    return code if code >= 0 else 128 - code


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a child as Ctrl-C would (pytest then runs its clean-up), harder if it lingers."""
    for signum, grace in ((signal.SIGINT, 20), (signal.SIGTERM, 5), (signal.SIGKILL, None)):
        if process.poll() is not None:
            return
        process.send_signal(signum)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            continue


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    tools = ROOT / ".tools"
    binary = tools / "bin" / "uv"
    if binary.exists():
        return str(binary)
    say(f"installing uv {UV_VERSION} into .tools/")
    try:
        venv.create(tools, with_pip=True, clear=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        fail(
            f"creating a virtual environment in .tools/ to install uv into ({exc})",
            "install Python's venv module with pip (Debian/Ubuntu: apt-get install python3-venv),"
            " or install uv (https://docs.astral.sh/uv/) and put it on PATH; then run this again",
        )
    pip = [str(tools / "bin" / "python"), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"]
    if run(pip) != 0 or not binary.exists():
        fail(
            f"installing uv {UV_VERSION} into .tools/ with pip (its output is above)",
            "check the network or pip's package index (PIP_INDEX_URL), or install uv"
            " (https://docs.astral.sh/uv/) and put it on PATH; then run this again",
        )
    return str(binary)


def sync(*options: str, quiet: bool = False) -> str:
    """uv, after installing the locked dependencies (and the given `uv sync` options)."""
    tool = uv()
    if not quiet:
        say("installing the locked dependencies into .venv/")
    if run([tool, "sync", "--locked", "--quiet", *options]) != 0:
        fail(
            "installing the locked dependencies into .venv/ (`uv sync --locked`, output above)",
            "if uv says uv.lock needs to be updated, run `python3 scripts/dev.py uv lock` and"
            " commit uv.lock; otherwise check the network or uv's package index"
            " (UV_DEFAULT_INDEX); then run this again",
        )
    return tool


def serve() -> int:
    tool = sync()
    say("migrating and serving on http://127.0.0.1:8000 (docs at /docs); Ctrl-C stops")
    return run([tool, "run", "--locked", "python", "-m", "service", "serve", "--migrate"])


def run_command(command: list[str]) -> int:
    """`uv run --locked COMMAND` in the project environment, installed first (without removing
    what `uv run --group ...` added). Its exit code is the command's."""
    if not command:
        return usage(2)
    tool = sync("--inexact", quiet=True)  # the command's output is all that is printed
    return run([tool, "run", "--locked", *command])


def bench(bench_args: list[str]) -> int:
    """The benchmark (see bench/run.py; needs wrk and PostgreSQL); arguments go to it."""
    tool = sync("--group", "bench")
    return run(
        [tool, "run", "--locked", "--group", "bench", "python", "-m", "bench.run", *bench_args]
    )


def check() -> int:
    tool = sync()
    status = 0
    # pyproject's mypy packages leave scripts/ out (it is reached only through the tests'
    # import of it): checked on its own too, --strict like the rest.
    commands = (
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["mypy", "scripts"],
        ["lint-imports"],  # the layer contracts in .importlinter
    )
    for command in commands:
        say(" ".join(command))
        if run([tool, "run", "--locked", *command]) != 0:
            status = 1
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
        if run(install, env=env) != 0:
            what = "installing Debian's chromium for the docs UI's browser test (output above)"
            if IN_CI:
                fail(what, "make apt-get work here (network, sources), then run this again")
            say(f"WARNING: {what} failed; the browser test will say so")


@dataclass
class SuiteRun:
    backends: list[str]
    pytest_args: list[str]


def parse_test_args(args: list[str]) -> SuiteRun:
    """`test`'s own options come first (`--sqlite` or `--postgres`; `--` ends them); the rest
    goes to pytest untouched."""
    backends = list(BACKENDS)
    rest = list(args)
    while rest and rest[0] in ("--sqlite", "--postgres", "--"):
        option = rest.pop(0)
        if option == "--":
            break
        backends = [option.removeprefix("--")]
    return SuiteRun(backends, rest)


def test(args: list[str]) -> int:
    options = parse_test_args(args)
    tool = sync()
    ensure_chromium()
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    lines: list[str] = []
    status = 0
    with ExitStack() as stack:
        url = None
        if "postgres" in options.backends:
            url = stack.enter_context(postgres_url(required=options.backends == ["postgres"]))
        reports = stack.enter_context(tempfile.TemporaryDirectory(prefix="notes-reports-"))
        for backend in options.backends:
            if backend == "postgres" and url is None:
                lines.append("postgres: NOT RUN (no PostgreSQL; see the warning above)")
                continue
            say(f"pytest on {backend}")
            report = Path(reports, f"{backend}.xml")
            env = {**os.environ, "TEST_DATABASE": backend, "TEST_POSTGRES_URL": url or ""}
            command = [tool, "run", "--locked", "pytest", f"--junitxml={report}"]
            code = run([*command, *options.pytest_args], env=env)
            if code not in (0, 1, PYTEST_NO_TESTS):  # not a verdict on the tests
                print(
                    f"dev.py: FAILED: pytest on {backend} stopped with exit {code}"
                    f" ({PYTEST_STOPPED.get(code, 'not a test result')}); later runs skipped\n"
                    "  what to do: see the message above (arguments after `test` go to pytest;"
                    " dev.py's own options, --sqlite or --postgres, come first)",
                    file=sys.stderr,
                    flush=True,
                )
                return code
            result = counts(report)
            for key, value in result.items():
                totals[key] += value
            if code == PYTEST_NO_TESTS:
                lines.append(f"{backend}: no tests collected (pytest exit 5)")
            else:
                lines.append(
                    f"{backend}: {result['passed']} passed, {result['failed']} failed,"
                    f" {result['skipped']} skipped"
                )
                if code != 0 or result["failed"]:
                    status = 1
    for line in lines:
        print(line)
    if totals["passed"] == 0:
        print("dev.py: FAILED: no test passed (none collected, or all skipped)", file=sys.stderr)
        status = 1
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
def postgres_url(*, required: bool) -> Iterator[str | None]:
    """The server the PostgreSQL run uses: TEST_POSTGRES_URL's when it answers, else a
    throwaway cluster; None (a warning) when neither can be had and it may be left out."""
    url = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    address = address_of(url)
    if answers(url):
        say(f"PostgreSQL answers at {address}: the PostgreSQL run uses it")
        yield url
        return
    binaries = postgres_binaries()
    if binaries is None:
        message = f"PostgreSQL does not answer at {address} and initdb/pg_ctl are not installed"
        if IN_CI or required:
            fail(
                message,
                "start PostgreSQL and point TEST_POSTGRES_URL at it, or install PostgreSQL's"
                " server programs (Debian/Ubuntu: apt-get install postgresql) so a throwaway"
                " cluster can be started",
            )
        say(f"WARNING: {message}; running the suite on SQLite ONLY.")
        yield None
        return
    say(f"nothing answers at {address}: starting a throwaway PostgreSQL cluster")
    with throwaway_cluster(binaries) as cluster_url:
        yield cluster_url


def address_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"


def answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def postgres_binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and Path(found).with_name("initdb").exists():
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


def cluster_user(euid: int) -> str | None:
    """Who runs initdb/pg_ctl: we do, except as root (PostgreSQL refuses to run as root): then
    the `postgres` account (PostgreSQL's packages create it), or `nobody` without one."""
    if euid != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    fail(
        "running as root, with neither a `postgres` nor a `nobody` account to run PostgreSQL as",
        "create one (`useradd --system postgres`), or run this as an unprivileged user",
    )


@dataclass
class Account:
    """Whom PostgreSQL's programs run as: ourselves (None) or another account (as root)."""

    name: str | None

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        account = pwd.getpwnam(self.name) if self.name else None
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )

    def step(self, command: list[str], what: str, log: Path | None = None) -> None:
        """Run one of PostgreSQL's programs; stop the command if it fails."""
        try:
            done = self.run(command)
            output, code = done.stdout + done.stderr, done.returncode
        except (OSError, subprocess.SubprocessError) as exc:
            output, code = str(exc), -1
        if code == 0:
            return
        if log is not None and log.exists():
            tail = log.read_text(errors="replace").splitlines()[-20:]
            output += f"\n--- the end of {log}:\n" + "\n".join(tail)
        print(output.rstrip(), file=sys.stderr)
        who = f" as `{self.name}`" if self.name else ""
        todo = "fix what it says, or start PostgreSQL yourself and point TEST_POSTGRES_URL at it"
        if self.name:
            todo += (
                f"; as root, the temporary directory's parents must be searchable by"
                f" `{self.name}` (e.g. TMPDIR=/tmp)"
            )
        fail(f"{what}{who} (`{' '.join(command)}`, exit {code}; output above)", todo)


@contextmanager
def throwaway_cluster(binaries: Path, account: Account | None = None) -> Iterator[str]:
    """A new PostgreSQL cluster in a temporary directory, on a free port, stopped and removed
    afterwards; yields its URL, once it answers. PostgreSQL's programs run as `account`
    (default: see cluster_user)."""
    account = account or Account(cluster_user(os.geteuid()))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgres://postgres@127.0.0.1:{port}/postgres"
    with tempfile.TemporaryDirectory(prefix="notes-pg-") as directory:
        if account.name is not None:
            shutil.chown(directory, account.name, pwd.getpwnam(account.name).pw_gid)
        data, log = Path(directory, "data"), Path(directory, "log")
        pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data)]
        initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        who = f" (as `{account.name}`)" if account.name else ""
        say(f"throwaway PostgreSQL cluster in {directory}, port {port}{who}")
        account.step([*initdb, "-N", "-E", "UTF8", "--no-locale"], "initdb (a new cluster)")
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            start = [*pg_ctl, "-o", options, "-w", "-l", str(log), "start"]
            account.step(start, "starting the throwaway cluster (pg_ctl start)", log)
            if not answers(url):
                fail(
                    f"the throwaway cluster started, but nothing answers at 127.0.0.1:{port}",
                    "start PostgreSQL yourself and point TEST_POSTGRES_URL at it",
                )
            yield url
        finally:
            stopped = account.run([*pg_ctl, "-m", "fast", "-w", "stop"]).returncode == 0
            if not stopped and data.joinpath("postmaster.pid").exists():
                say(f"WARNING: could not stop the throwaway cluster in {data}")


def main(argv: list[str]) -> int:
    # A SIGTERM unwinds like Ctrl-C: the running child is stopped and the cluster removed.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    if not argv or argv[0] in ("-h", "--help", "help"):
        return usage(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    if command == "serve" and not rest:
        return serve()
    if command == "check" and not rest:
        return check()
    if command == "audit" and not rest:
        return audit()
    if command == "bench":
        return bench(rest)
    if command == "test":
        return test(rest)
    if command == "run":
        return run_command(rest)
    if command == "uv":
        return run([uv(), *rest])
    print(f"dev.py: unknown command {command!r} (or unexpected arguments)\n", file=sys.stderr)
    return usage(2)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("\ndev.py: interrupted", file=sys.stderr)
        sys.exit(130)
