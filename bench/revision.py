"""The service at another git revision, to measure beside the working tree's (`--against`).

The revision is checked out into a temporary detached git worktree, which gets a virtualenv
of its own from that revision's own uv.lock, installed as scripts/dev.py installs this
checkout's for the benchmark (`uv sync --locked --group bench`; without --group when the
revision has no bench group): packages the service imports only when they are there
(structlog imports rich and greenlet, anyio sniffio) then load on both sides alike. Its
service migrates its own database and serves with its own code, started exactly as the
current one is (`python -m service serve`, so with the uvicorn settings its own cli.py
gives). The worktree, its virtualenv included, is removed at the end, also on failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.servers import environ_for

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Checkout:
    rev: str  # as given on the command line, e.g. "main"
    commit: str  # its short hash
    root: Path  # the worktree
    python: Path  # its virtualenv's interpreter (set by `with_environment`)

    @property
    def name(self) -> str:
        return f"service@{self.rev}"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout.strip()


def resolve(rev: str, repo: Path = ROOT) -> str:
    """The full hash of the commit `rev` names (SystemExit with git's message if none)."""
    return _git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}")


@contextmanager
def worktree(rev: str, repo: Path = ROOT) -> Iterator[Checkout]:
    """`rev` checked out in a temporary detached worktree of `repo`, removed afterwards."""
    commit = resolve(rev, repo)
    with tempfile.TemporaryDirectory(prefix="bench-rev-") as directory:
        path = Path(directory, "worktree")
        _git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            short = _git(repo, "rev-parse", "--short", commit)
            yield Checkout(rev, short, path, path / ".venv" / "bin" / "python")
        finally:
            # --force: the virtualenv and anything the run left there are untracked.
            removed = subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)],
                cwd=repo,
                capture_output=True,
            )
            if removed.returncode != 0:  # e.g. the directory is already gone
                shutil.rmtree(path, ignore_errors=True)
                subprocess.run(["git", "worktree", "prune"], cwd=repo, capture_output=True)


def find_uv() -> str:
    """uv: the one running us (`uv run` sets UV), on PATH, or scripts/dev.py's .tools/."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools/bin/uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("uv is not installed: run the benchmark as `python3 scripts/dev.py bench`.")


def sync(checkout: Checkout) -> None:
    """The revision's own locked dependencies, into its worktree's .venv, on this
    interpreter's version (so that only the code differs)."""
    started = time.monotonic()
    print(f"installing {checkout.name} ({checkout.commit})'s locked dependencies", flush=True)
    env = {
        **environ_for(str(checkout.python)),
        "UV_PROJECT_ENVIRONMENT": str(checkout.python.parent.parent),
    }
    version = ".".join(map(str, sys.version_info[:3]))
    command = [find_uv(), "sync", "--locked", "--quiet"]
    pyproject = tomllib.loads((checkout.root / "pyproject.toml").read_text())
    if "bench" in pyproject.get("dependency-groups", {}):
        command += ["--group", "bench"]
    subprocess.run([*command, "--python", version], cwd=checkout.root, env=env, check=True)
    print(f"installed in {time.monotonic() - started:.0f} s", flush=True)


@contextmanager
def checked_out(rev: str) -> Iterator[Checkout]:
    """`worktree` with the revision's virtualenv installed."""
    with worktree(rev) as checkout:
        sync(checkout)
        yield checkout
