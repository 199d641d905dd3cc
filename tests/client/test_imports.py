"""The client needs only httpx and pydantic: it never pulls in the server."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import REPO_ROOT

CLIENT = REPO_ROOT / "service" / "client"
SERVER_ONLY = ("fastapi", "starlette", "tortoise", "aerich", "asyncpg", "aiosqlite", "uvicorn")


@pytest.mark.live
def test_importing_the_client_loads_none_of_the_servers_dependencies() -> None:
    script = (
        "import json, sys; import service.client; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{SERVER_ONLY!r} or (m.startswith('service.') and not m.startswith('service.client')))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout) == []


def test_client_modules_import_only_the_standard_library_httpx_pydantic_and_each_other() -> None:
    allowed = set(sys.stdlib_module_names) | {"httpx", "pydantic", "service"}
    for path in CLIENT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                if name.startswith("service"):
                    assert name.startswith("service.client"), f"{path.name} imports {name}"


def test_the_service_package_itself_imports_nothing() -> None:
    tree = ast.parse(Path(REPO_ROOT / "service" / "__init__.py").read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
