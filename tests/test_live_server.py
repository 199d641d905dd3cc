"""The real process over real HTTP: what `python -m service serve` gives a caller."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.servers import Server, running_server


def test_tutorial_requests_work_over_real_http(live_server: Server) -> None:
    with httpx.Client(base_url=live_server.base_url) as client:
        created = client.post("/notes/", json={"text": "over the wire", "completed": False})
        listed = client.get("/notes/")
        fetched = client.get(f"/notes/{created.json()['id']}")

    assert created.status_code == 201
    assert created.json() in listed.json()
    assert fetched.json() == created.json()
    assert "server" not in created.headers  # no version banner


def test_slash_forms_are_not_redirected_over_real_http(live_server: Server) -> None:
    with httpx.Client(base_url=live_server.base_url, follow_redirects=False) as client:
        for path in ("/notes", "/health/live", "/health/ready", "/metrics", "/docs", "/redoc"):
            assert client.get(path).status_code == 200
            assert client.get(path + "/").status_code == 200


def test_a_test_not_marked_live_cannot_start_a_server(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match=r"mark it @pytest\.mark\.live"),
        running_server({}, tmp_path),
    ):
        pass
