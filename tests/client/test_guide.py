"""docs/client.md's examples run as written against the live service, so they cannot drift."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.faults import FaultProxy
from tests.servers import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "client.md"


def python_examples() -> list[tuple[int, str]]:
    """Each ```python block of the guide, with the line it starts on."""
    text = GUIDE.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    ]


def test_the_guide_shows_both_clients() -> None:
    examples = [code for _, code in python_examples()]

    assert any("NotesClient(" in code and "AsyncNotesClient" not in code for code in examples)
    assert any("AsyncNotesClient(" in code for code in examples)


@pytest.mark.parametrize(
    "code", [code for _, code in python_examples()], ids=[f"line {n}" for n, _ in python_examples()]
)
def test_an_example_of_the_guide_runs_as_written(
    code: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    # Through the recording proxy, to see what the example really asked of the service.
    env = {k: v for k, v in os.environ.items() if k != "NOTES_API_KEY"}  # authentication off
    env["NOTES_URL"] = proxy.base_url
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout  # every example shows what it got
    assert 201 in [e.status for e in proxy.requests("POST")]
    assert all(e.status is not None and e.status < 500 for e in proxy.exchanges)
