"""Ceiling: the least code that answers the benchmark's requests as the service does.

Starlette on raw asyncpg, on the service's own schema (migrated by Aerich), with the same
routes, the same JSON fields and the same `ETag`, `Location` and `Link` headers, but none
of the service's validation, error handling, middleware or ORM. Run with
`uvicorn bench.ceiling_app:app`; `BENCH_DATABASE_URL` names the PostgreSQL database.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench")
COLUMNS = "id, text, completed, created_at, updated_at, version"
OWNER = "anonymous"  # the service's client when authentication is off; its queries say so too
JSON = "application/json"


def note_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "text": row["text"],
        "completed": row["completed"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "version": row["version"],
    }


def note_response(row: Mapping[str, Any], status_code: int = 200, **headers: str) -> Response:
    body = json.dumps(note_dict(row), ensure_ascii=False)
    headers["ETag"] = f'"{row["version"]}"'
    return Response(body, status_code, headers, JSON)


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Nothing to reset: the app never changes session state."""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=10, reset=_no_reset) as pool:
        app.state.pool = pool
        yield


async def get_note(request: Request) -> Response:
    try:
        note_id = int(request.path_params["note_id"])
    except ValueError:
        return Response(status_code=404)
    row = await request.app.state.pool.fetchrow(
        f"SELECT {COLUMNS} FROM notes WHERE owner = $1 AND id = $2", OWNER, note_id
    )
    return Response(status_code=404) if row is None else note_response(row)


async def list_notes(request: Request) -> Response:
    limit = int(request.query_params.get("limit", 100))
    after = int(request.query_params.get("after", 0))
    rows = await request.app.state.pool.fetch(
        f"SELECT {COLUMNS} FROM notes WHERE owner = $1 AND id > $2 ORDER BY id LIMIT $3",
        OWNER,
        after,
        limit + 1,
    )
    headers = {}
    if len(rows) > limit:
        rows = rows[:limit]
        next_url = request.url.include_query_params(after=rows[-1]["id"])
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = json.dumps([note_dict(row) for row in rows], ensure_ascii=False)
    return Response(body, 200, headers, JSON)


async def create_note(request: Request) -> Response:
    payload = json.loads(await request.body())
    now = datetime.now(UTC)
    row = await request.app.state.pool.fetchrow(
        "INSERT INTO notes (owner, text, completed, created_at, updated_at, version) "
        f"VALUES ($1, $2, $3, $4, $4, 1) RETURNING {COLUMNS}",
        OWNER,
        payload["text"],
        payload.get("completed", False),
        now,
    )
    return note_response(row, 201, Location=f"/notes/{row['id']}")


routes = [
    Route(path, endpoint, methods=[method])
    for suffix in ("", "/")
    for path, endpoint, method in (
        ("/notes" + suffix, list_notes, "GET"),
        ("/notes" + suffix, create_note, "POST"),
        ("/notes/{note_id}" + suffix, get_note, "GET"),
    )
]
app = Starlette(routes=routes, lifespan=lifespan)
