"""scripts/dev.py, the README's set-up commands: run for real where that is fast (the script
itself, uv, PostgreSQL's initdb/pg_ctl, nested pytest runs); a stand-in program only to make
a step fail on demand (uv's dependency install, initdb), besides the real initdb's refusal
of root."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from scripts import dev
from tests.databases import backend

# Nothing here depends on the backend: run once, in the SQLite pass.
pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="backend-independent: SQLite pass")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "dev.py"


def dev_py(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("args", [[], ["bogus"], ["run"], ["serve", "--port", "1"]])
def test_called_wrongly_it_prints_its_usage_and_fails(args: list[str]) -> None:
    done = dev_py(*args)
    assert done.returncode == 2
    assert "python3 scripts/dev.py run COMMAND [ARGS]" in done.stderr
    assert "==> installing" not in done.stdout  # nothing was done


def test_help_prints_the_usage() -> None:
    done = dev_py("--help")
    assert done.returncode == 0
    assert "python3 scripts/dev.py test [OPTION] [ARGS]" in done.stdout


@pytest.mark.parametrize(
    ("args", "backends", "pytest_args"),
    [
        ([], ["sqlite", "postgres"], []),
        (["-m", "not live"], ["sqlite", "postgres"], ["-m", "not live"]),
        (["--sqlite", "-x", "-k", "listing"], ["sqlite"], ["-x", "-k", "listing"]),
        (["--postgres", "tests/api"], ["postgres"], ["tests/api"]),
        (["-k", "x", "--sqlite"], ["sqlite", "postgres"], ["-k", "x", "--sqlite"]),
        (["--", "--sqlite"], ["sqlite", "postgres"], ["--sqlite"]),
    ],
)
def test_tests_own_options_come_first_the_rest_goes_to_pytest(
    args: list[str], backends: list[str], pytest_args: list[str]
) -> None:
    assert dev.parse_test_args(args) == dev.SuiteRun(backends, pytest_args)


def test_run_runs_a_command_in_the_project_environment() -> None:
    code = "import sys, fastapi; print(sys.prefix); sys.exit(3)"
    done = dev_py("run", "python", "-c", code)
    assert done.returncode == 3  # the command's own exit code
    assert done.stdout.strip() == str(ROOT / ".venv")  # and only its output


def test_a_failing_dependency_install_stops_with_what_to_do(tmp_path: Path) -> None:
    # The real `uv sync` cannot be made to fail on demand: a uv that fails to install.
    fake_uv = tmp_path / "uv"
    fake_uv.write_text("#!/bin/sh\necho 'error: no network' >&2\nexit 1\n")
    fake_uv.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = dev_py("run", "python", "-c", "print('never')", env=env)
    assert done.returncode == 1
    assert "never" not in done.stdout
    assert "error: no network" in done.stderr
    assert "FAILED: installing the locked dependencies" in done.stderr
    assert "what to do:" in done.stderr


def test_a_failing_uv_install_stops_with_what_to_do(tmp_path: Path) -> None:
    # A fresh clone (the script alone), no uv on PATH, and .tools/ cannot become uv's venv.
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "dev.py")
    (tmp_path / ".tools").write_text("not a directory")
    no_uv = tmp_path / "bin"
    no_uv.mkdir()
    done = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "dev.py"), "test"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": str(no_uv)},
        check=False,
    )
    assert done.returncode == 1
    assert "FAILED: creating a virtual environment in .tools/" in done.stderr
    assert "what to do:" in done.stderr
    assert "==> installing the locked dependencies" not in done.stdout  # it stopped there


def test_postgres_programs_run_as_an_unprivileged_account_only_as_root() -> None:
    assert dev.cluster_user(1000) is None
    account = dev.cluster_user(0)
    assert account in ("postgres", "nobody")
    assert account is not None
    assert pwd.getpwnam(account).pw_uid != 0


@pytest.fixture
def binaries() -> Path:
    found = dev.postgres_binaries()
    if found is None:
        message = "initdb/pg_ctl are not installed"
        if dev.IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def accounts() -> list[str | None]:
    # As root, also as `nobody`: the account used where there is no `postgres` account.
    return [dev.cluster_user(os.geteuid())] + (["nobody"] if os.geteuid() == 0 else [])


@pytest.mark.parametrize("user", accounts())
async def test_a_throwaway_cluster_answers_then_stops(binaries: Path, user: str | None) -> None:
    with dev.throwaway_cluster(binaries, dev.Account(user)) as url:
        connection = await asyncpg.connect(url, timeout=10)
        try:
            assert await connection.fetchval("SHOW server_encoding") == "UTF8"
        finally:
            await connection.close()
    assert not dev.answers(url)


def test_a_failing_cluster_step_stops_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not a cluster started then ignored: the command stops at initdb's failure.
    for program in ("initdb", "pg_ctl"):
        script = f"#!/bin/sh\necho '{program}: error: broken' >&2\nexit 1\n"
        (tmp_path / program).write_text(script)
        (tmp_path / program).chmod(0o755)
    with pytest.raises(SystemExit) as stopped, dev.throwaway_cluster(tmp_path, dev.Account(None)):
        pytest.fail("the cluster did not start: nothing should run")
    assert stopped.value.code == 1
    stderr = capsys.readouterr().err
    assert "initdb: error: broken" in stderr
    assert "FAILED: initdb" in stderr
    assert "what to do:" in stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="as root only")
def test_as_root_the_real_initdb_refusal_stops_the_command(
    binaries: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What happened on a fresh machine: initdb run as root itself.
    with pytest.raises(SystemExit), dev.throwaway_cluster(binaries, dev.Account(None)):
        pytest.fail("the cluster did not start: nothing should run")
    assert "cannot be run as root" in capsys.readouterr().err


# The nested runs select tests of this file that need no database, so skip conftest.py (its
# autouse fixture would set one up).
THIS_FILE = ["tests/test_dev_script.py", "--noconftest"]


def test_test_reports_a_selection_of_nothing_as_a_failure() -> None:
    done = dev_py("test", "--sqlite", *THIS_FILE, "-k", "no_such_test_anywhere")
    assert done.returncode == 1
    assert "sqlite: no tests collected (pytest exit 5)" in done.stdout
    assert "total: 0 passed" in done.stdout
    assert "FAILED: no test passed" in done.stderr


def test_test_stops_at_a_pytest_usage_error() -> None:
    done = dev_py("test", *THIS_FILE, "--no-such-pytest-option")
    assert done.returncode == 4
    assert "pytest on sqlite stopped with exit 4 (usage error)" in done.stderr
    assert "pytest on postgres" not in done.stdout  # nothing ran after it


def test_test_runs_pytest_and_counts_what_passed() -> None:
    selection = [*THIS_FILE, "-k", "own_options_come_first"]
    done = dev_py("test", "--sqlite", *selection, "-m", "not asyncio")  # one argument, intact
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sqlite: 6 passed, 0 failed, 0 skipped" in done.stdout
    assert "total: 6 passed, 0 failed, 0 skipped" in done.stdout
