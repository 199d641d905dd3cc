"""The client needs only httpx and pydantic: it never pulls in the server."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib

import pytest

from tests.servers import REPO_ROOT

CLIENT = REPO_ROOT / "client"
SERVER_ONLY = ("fastapi", "starlette", "tortoise", "aerich", "asyncpg", "aiosqlite", "uvicorn")


@pytest.mark.live
def test_importing_the_client_loads_none_of_the_servers_dependencies() -> None:
    script = (
        "import json, sys; import notes_client; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{SERVER_ONLY!r} or m == 'service' or m.startswith('service.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout) == []


def test_client_modules_import_only_the_standard_library_httpx_pydantic_and_each_other() -> None:
    allowed = set(sys.stdlib_module_names) | {"httpx", "pydantic", "notes_client"}
    modules = sorted((CLIENT / "src" / "notes_client").glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_the_distribution_depends_on_httpx_and_pydantic_only() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\s<>=!~;\[]", requirement)[0] for requirement in project["dependencies"]}

    assert project["name"] == "notes-client"
    assert names == {"httpx", "pydantic"}
