"""GET /notes/changes: the client's change feed, as JSON pages (long polling) or a
Server-Sent Events stream. Installed before /notes/{note_id}, which would take the path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from enum import Enum
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.sse import KEEPALIVE_COMMENT, EventSourceResponse, format_sse_event
from starlette.routing import Match
from starlette.types import Scope

from service import changes
from service.api import metrics
from service.api.deps import AppSettings, ChangesQuery, CurrentClient, LastEventId
from service.api.openapi.responses import HEADER_FEED_LINK, problem_responses
from service.api.paths import NOTES_PREFIX, route_path
from service.api.representation import JSON
from service.change_notifier import NOTIFIER
from service.changes import ChangeRead
from service.draining import is_draining
from service.errors import CursorExpired, ValidationFailed

logger = logging.getLogger(__name__)

PATH = NOTES_PREFIX + "/changes"
EVENT_STREAM = "text/event-stream"
TAGS: list[str | Enum] = ["notes"]

_STREAM_EXAMPLE = (
    'event: updated\ndata: {"seq":41,"type":"updated","note_id":7,"version":3,'
    '"at":"2026-12-02T10:00:00.123456Z","note":{"id":7,"text":"Buy milk","completed":true,'
    '"created_at":"2026-12-02T09:58:00.000000Z","updated_at":"2026-12-02T10:00:00.123456Z",'
    '"version":3}}\nid: 41\n\n: ping\n\n'
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The changes after `after`, oldest first (possibly none); or, with "
        "`Accept: text/event-stream`, an endless stream of them, one event per change "
        "(`id`: the seq, `event`: the type, `data`: the change) and a `: ping` comment "
        "when idle.",
        "headers": {"Link": HEADER_FEED_LINK},
        "content": {
            EVENT_STREAM: {
                # One event, as OpenAPI 3.1 tools read an event stream's schema.
                "schema": {
                    "type": "object",
                    "required": ["data", "event", "id"],
                    "properties": {
                        "data": {"type": "string", "description": "The change, as JSON."},
                        "event": {"type": "string", "enum": ["created", "updated", "deleted"]},
                        "id": {"type": "string", "description": "The change's seq."},
                    },
                },
                "example": _STREAM_EXAMPLE,
            },
        },
    },
    **problem_responses(ValidationFailed, CursorExpired),
}


class _ClaimsItsPath(APIRoute):
    """Also claims its path for the methods it does not serve, so that they are a 405 here
    instead of reaching /notes/{note_id} (where "changes" would be a note id: a 422)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and route_path(scope) != self.path:
            return Match.NONE, {}  # its path has no parameters: every other path, at once
        match, child_scope = super().matches(scope)
        return (Match.FULL if match is Match.PARTIAL else match), child_scope


def install_routes(app: FastAPI) -> None:
    for path, documented in ((PATH, True), (PATH + "/", False)):
        app.router.add_api_route(
            path,
            list_changes,
            methods=["GET"],
            tags=TAGS,
            include_in_schema=documented,
            operation_id="list_changes",
            summary="Follow the changes of notes",
            response_model=list[ChangeRead],
            responses=_RESPONSES,
            route_class_override=_ClaimsItsPath,
        )


async def list_changes(
    query: ChangesQuery,
    client: CurrentClient,
    request: Request,
    app_settings: AppSettings,
    last_event_id: LastEventId = None,
) -> Response:
    """Every create, change and delete of the client's notes, in the order they were
    committed: follow `Link` from `after=0` (or from the `seq` of the last change applied) to
    see each change exactly once. With `wait`, an empty answer waits for the next change.
    A cursor older than the retained changes (CHANGES_RETENTION_HOURS, default 168) is a
    410 naming where to continue after reading `GET /notes` again.

    With `Accept: text/event-stream` the same feed is a Server-Sent Events stream, resumed
    after `Last-Event-ID` when the client reconnects."""
    if EVENT_STREAM in request.headers.get("accept", ""):
        after = query.after if last_event_id is None else last_event_id
        first = await changes.read_changes(client, after, query.limit)
        stream = _stream(client, after, first, query.limit, app_settings.CHANGES_HEARTBEAT_SECONDS)
        return EventSourceResponse(stream, headers={"Cache-Control": "no-store"})
    with metrics.following():
        found = await changes.wait_for_changes(client, query.after, query.limit, query.wait)
    metrics.changes_served(found)
    cursor = found[-1].seq if found else query.after
    next_url = request.url.include_query_params(after=cursor)
    return Response(
        changes.CHANGES.dump_json(found),
        media_type=JSON,
        headers={"Link": f'<{next_url}>; rel="next"'},
    )


async def _stream(
    client: str, after: int, first: list[ChangeRead], limit: int, heartbeat: float
) -> AsyncIterator[bytes]:
    """Events until the client leaves or the process drains; a failed read ends the stream
    (the client reconnects with Last-Event-ID)."""
    found = first
    with metrics.following(), NOTIFIER.subscribe(client) as woken:
        woken.set()  # read again at once: a change may have come before the subscription
        while True:
            for change in found:
                yield format_sse_event(
                    data_str=change.model_dump_json(), event=change.type, id=str(change.seq)
                )
            metrics.changes_served(found)
            if found:
                after = found[-1].seq
            elif is_draining():
                return
            else:
                try:
                    await asyncio.wait_for(woken.wait(), heartbeat)
                except TimeoutError:
                    yield KEEPALIVE_COMMENT
            if is_draining():
                return
            woken.clear()
            try:
                found = await changes.read_changes(client, after, limit)
            except Exception:
                logger.exception("Change feed stream: reading failed; ending the stream")
                return
