"""The edge pipeline as a whole: one layer, its steps in the agreed order, CORS slotted in."""

from __future__ import annotations

import gc
import os

import httpx
from fastapi import FastAPI
from starlette.types import Message

from service.api.middleware.edge import EdgeMiddleware
from service.api.middleware.telemetry import request_id
from service.api_keys import KeyRing, digest_of, generate_key
from service.config import Settings
from service.main import create_app
from tests.api.middleware import add_edge
from tests.factories import assert_problem

ORIGIN = "https://app.example"
KEY = generate_key()


def small_app() -> FastAPI:
    app = FastAPI()

    @app.post("/notes")
    async def create(payload: dict[str, str]) -> dict[str, str]:
        return payload

    @app.get("/notes/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/notes/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    keyring = KeyRing.of([("alpha", digest_of(KEY))])
    return add_edge(app, keyring, cors_origins=[ORIGIN])


async def send(method: str, path: str, **kwargs: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=small_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


def test_the_service_has_one_middleware_the_edge(settings: Settings) -> None:
    app = create_app(settings)
    classes: list[object] = [entry.cls for entry in app.user_middleware]
    assert classes == [EdgeMiddleware]


async def test_a_refusal_carries_cors_request_id_and_hardening_headers() -> None:
    response = await send("GET", "/notes/boom", headers={"Origin": ORIGIN, "X-Request-ID": "r-1"})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["x-request-id"] == "r-1"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_an_unexpected_error_gets_cors_headers_too() -> None:
    headers = {"Origin": ORIGIN, "Authorization": f"Bearer {KEY}"}
    response = await send("GET", "/notes/boom", headers=headers)
    assert_problem(response, 500, "internal-error")
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert len(response.headers["x-request-id"]) == 32


async def test_a_preflight_is_answered_before_authentication_with_edge_headers() -> None:
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    response = await send("OPTIONS", "/notes", headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_steps_answer_in_order_keys_then_limits_then_body() -> None:
    too_many = {f"X-Filler-{n}": "x" for n in range(120)}
    bad_body = {"Content-Type": "text/plain"}
    assert_problem(await send("POST", "/notes", headers=too_many, content="x"), 401, "unauthorized")
    keyed = {"Authorization": f"Bearer {KEY}"}
    response = await send("POST", "/notes", headers={**keyed, **too_many, **bad_body}, content="x")
    assert response.status_code == 431
    response = await send("POST", "/notes", headers={**keyed, **bad_body}, content="x")
    assert_problem(response, 415, "unsupported-media-type")
    as_json = {**keyed, "Content-Type": "application/json"}
    response = await send("POST", "/notes", headers=as_json, content=b'{"a": "1", "a": "2"}')
    assert_problem(response, 422, "validation-error")
    response = await send("POST", "/notes", headers=keyed, json={"a": "1"})
    assert (response.status_code, response.json()) == (200, {"a": "1"})


async def test_new_request_ids_are_distinct() -> None:
    ids = {(await send("GET", "/notes/boom")).headers["x-request-id"] for _ in range(50)}
    assert len(ids) == 50


class ServerCycle:
    """What uvicorn's request-response cycle is to a request: it holds the scope and sends
    with a bound method of its own."""

    def __init__(self, scope: dict[str, object]) -> None:
        self.scope = scope
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def test_a_request_leaves_no_reference_cycle_behind() -> None:
    """A cycle would keep each request's objects alive until the collector's next pass
    over an older generation, which the service's tuning makes rare: memory grows."""
    app = small_app()
    scope = {"type": "http", "method": "GET", "path": "/notes/boom", "headers": []}
    await ServerCycle(dict(scope)).receive()  # warm the imports
    gc.collect()
    gc.disable()
    try:
        keyed = [(b"authorization", f"Bearer {KEY}".encode())]
        for path, headers, status in (
            ("/notes/boom", [], 401),
            ("/notes/boom", keyed, 500),
            ("/notes/ok", keyed, 200),
        ):
            for _ in range(10):
                request = {"path": path, "headers": headers, "query_string": b"", "state": {}}
                cycle = ServerCycle({**scope, **request})
                await app(cycle.scope, cycle.receive, cycle.send)
                assert cycle.sent[0]["status"] == status
        del cycle
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_forked_process_makes_request_ids_of_its_own() -> None:
    scope: dict[str, object] = {"headers": []}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first new id, to the parent
        os.write(write, request_id(scope).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_id = os.read(read, 64).decode()
    os.close(read)
    parent_id = request_id(scope)
    assert len(child_id) == len(parent_id) == 32
    assert child_id[:16] != parent_id[:16]
