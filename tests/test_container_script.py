"""scripts/container.py, the CI step that builds and runs the image (as root, with podman; it
runs in `.ci/run`, not here): what can be checked without an engine."""

from __future__ import annotations

import resource
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scripts import container
from tests.servers import REPO_ROOT


def test_containers_conf_is_what_podman_needs_on_this_kind_of_machine() -> None:
    conf = tomllib.loads(container._containers_conf())
    assert conf["engine"] == {
        "runtime": "runc",  # crun fails on cgroup hybrid mode and setrlimit here
        "cgroup_manager": "cgroupfs",  # no systemd
        "events_logger": "file",  # no journal
    }
    limits = dict(entry.split("=", 1) for entry in conf["containers"]["default_ulimits"])
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        soft, hard = (int(value) for value in limits[name].split(":"))
        assert soft == hard
        machine_hard = resource.getrlimit(which)[1]
        assert machine_hard == resource.RLIM_INFINITY or hard <= machine_hard  # never raised


def test_the_cache_is_outside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTES_CONTAINER_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert container.cache_dir() == Path("/var/cache/notes-service-ci")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert container.cache_dir() == Path("/somewhere/cache/notes-service-ci")
    monkeypatch.setenv("NOTES_CONTAINER_CACHE", "/elsewhere")
    assert container.cache_dir() == Path("/elsewhere")


def test_an_unknown_step_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/container.py", "smoke", "deploy-to-prod"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown step(s): deploy-to-prod" in result.stderr


def test_ci_runs_the_container_step_and_fails_when_it_fails() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "\npython3 scripts/container.py\ncontainer=$?\n" in ci
    assert '[ "$container" -eq 0 ]' in ci.splitlines()[-1]
