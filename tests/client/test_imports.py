"""The client needs only httpx and pydantic: it never pulls in the server."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator

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


def imported(tree: ast.AST) -> Iterator[tuple[ast.stmt, str]]:
    """Each absolute import in `tree`, with the statement it is in."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node, node.module


def guarded(tree: ast.Module) -> set[ast.stmt]:
    """The statements inside a `try:` whose handler catches ImportError."""
    return {
        statement
        for node in ast.walk(tree)
        if isinstance(node, ast.Try)
        and any(
            isinstance(handler.type, ast.Name) and handler.type.id == "ImportError"
            for handler in node.handlers
        )
        for statement in node.body
    }


def test_client_modules_import_only_the_standard_library_httpx_pydantic_and_each_other() -> None:
    """...and OpenTelemetry's API, in `tracing` only, where its absence is caught."""
    allowed = set(sys.stdlib_module_names) | {"httpx", "pydantic", "notes_client"}
    modules = sorted((CLIENT / "src" / "notes_client").glob("*.py"))
    assert len(modules) > 5
    otel_imports = []
    for path in modules:
        tree = ast.parse(path.read_text())
        optional = guarded(tree)
        for statement, name in imported(tree):
            if name.split(".")[0] == "opentelemetry":
                assert path.name == "tracing.py", f"{path.name} imports {name}"
                assert statement in optional, f"{path.name} imports {name} unguarded"
                otel_imports.append(name)
            else:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
    assert otel_imports


def test_the_distribution_depends_on_httpx_and_pydantic_only() -> None:
    """...and its [tracing] extra on OpenTelemetry's API only."""
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\s<>=!~;\[]", requirement)[0] for requirement in requirements}

    assert project["name"] == "notes-client"
    assert names(project["dependencies"]) == {"httpx", "pydantic"}
    extras = project["optional-dependencies"]
    assert {name: names(requirements) for name, requirements in extras.items()} == {
        "tracing": {"opentelemetry-api"}
    }
