"""notes-client as another service gets it: the wheel built from client/, installed into a
clean virtual environment (nothing of this repository in it), used against a live server -
once as it is (OpenTelemetry absent: not importable, and nothing missed) and once with its
[tracing] extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.client.test_imports import SERVER_ONLY
from tests.servers import REPO_ROOT, Server

# Run by the clean environment's python; prints what it saw as JSON.
SCRIPT = """
import importlib.metadata, importlib.util, json, sys
import notes_client
import notes_client.tracing
from notes_client import NotesClient, PreconditionFailed

with NotesClient(sys.argv[1]) as notes:
    note = notes.create("from the wheel")
    fetched = notes.get(note.id)
    patched = notes.patch(note, completed=True)  # If-Match: "1"
    try:
        notes.patch(note, text="stale")  # If-Match: "1" again, but it is at 2 now
        stale = "accepted"
    except PreconditionFailed as error:
        stale = error.status
    listed = [n.id for n in notes.list(completed=True)]
    notes.delete(patched)
    after_delete = [n.id for n in notes.list()]

print(json.dumps({
    "file": notes_client.__file__,
    "opentelemetry": importlib.util.find_spec("opentelemetry") is not None,
    "tracing": notes_client.tracing.TRACING,
    "version": notes_client.__version__,
    "note": note.id,
    "fetched_equal": fetched == note,
    "patched": [patched.version, patched.completed],
    "stale": stale,
    "listed": listed,
    "after_delete": after_delete,
    "modules": sorted({m.split(".")[0] for m in sys.modules}),
    "distributions": sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions()),
}))
"""


def uv() -> str:
    """uv, as scripts/dev.py finds it (`uv run` names itself in UV)."""
    found = os.environ.get("UV") or shutil.which("uv")
    local = REPO_ROOT / ".tools" / "bin" / "uv"
    if found is None and local.exists():
        found = str(local)
    if found is None:
        pytest.fail("uv is needed to build the client's wheel: run `python3 scripts/dev.py test`")
    return found


def run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(uv(), "build", "--package", "notes-client", "--wheel", "--out-dir", dist, cwd=REPO_ROOT)
    [built] = dist.glob("notes_client-*-py3-none-any.whl")
    return built


@pytest.mark.parametrize("extra", ["", "tracing"])
def test_the_wheel_works_in_a_clean_environment_against_the_live_service(
    extra: str, wheel: Path, tmp_path: Path, live_server: Server
) -> None:
    env = tmp_path / "env"
    # The versions uv.lock tested, as constraints: the wheel's own metadata decides what is
    # installed, the lock only which versions (so the run is repeatable, and cached).
    pins = tmp_path / "pins.txt"
    export = ["export", "--locked", "--package", "notes-client", "--no-dev", "--no-hashes"]
    extras = ["--extra", extra] if extra else []
    run(uv(), *export, *extras, "--no-emit-workspace", "--quiet", "-o", pins, cwd=REPO_ROOT)
    run(sys.executable, "-m", "venv", "--without-pip", env, cwd=tmp_path)
    python = env / "bin" / "python"
    requirement = f"notes-client[{extra}] @ {wheel.as_uri()}" if extra else str(wheel)
    run(uv(), "pip", "install", "--python", python, "--constraint", pins, requirement, cwd=tmp_path)

    # -I: isolated from PYTHONPATH, the user's site-packages and the current directory.
    seen = json.loads(run(python, "-I", "-c", SCRIPT, live_server.base_url, cwd=tmp_path))

    assert Path(seen["file"]).is_relative_to(env)
    assert wheel.name.startswith(f"notes_client-{seen['version']}-")
    assert seen["fetched_equal"]
    assert seen["patched"] == [2, True]
    assert seen["stale"] == 412
    assert seen["listed"] == [seen["note"]]
    assert seen["after_delete"] == []
    assert httpx.get(f"{live_server.base_url}/notes").json() == []
    assert not set(seen["modules"]) & {*SERVER_ONLY, "service"}
    assert {"notes-client", "httpx", "pydantic"} <= set(seen["distributions"])
    # Without the extra OpenTelemetry is absent, and the calls above worked all the same.
    assert seen["opentelemetry"] is seen["tracing"] is bool(extra)
    assert ("opentelemetry-api" in seen["distributions"]) is bool(extra)
    assert not set(seen["distributions"]) & {"fastapi", "tortoise-orm", "uvicorn", "aerich"}
