"""The log of a real server process, start to stop: one JSON object per line, nothing twice."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from service.config import Settings
from tests.servers import running_server

pytestmark = pytest.mark.live


def test_a_start_and_stop_log_each_event_once_as_json(settings: Settings, tmp_dir: Path) -> None:
    with running_server({"DATABASE_URL": settings.DATABASE_URL}, tmp_dir) as server:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
    events = [json.loads(line)["event"] for line in server.log().splitlines()]

    for event in ("Tortoise-ORM started", "Tortoise-ORM shutdown", "Application shutdown"):
        assert len([e for e in events if e.startswith(event)]) == 1, (event, events)
