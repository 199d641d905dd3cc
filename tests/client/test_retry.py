"""Retries proven against the real service behind a fault-injecting proxy: answers lost after
the service acted, 503 and 429 with and without Retry-After, stalls, and a service that is
down and then starts. Nothing of the client is mocked."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from notes_client import (
    AsyncNotesClient,
    NotesClient,
    PreconditionFailed,
    RateLimited,
    RetryPolicy,
    ServiceUnavailable,
    ServiceUnreachable,
    request_id,
)
from notes_client.calls import Call
from service.config import Settings
from tests.client.conftest import QUICK
from tests.client.faults import STALL_SECONDS, FaultProxy
from tests.servers import Server, free_port, running_server


def stored_notes(server: Server) -> list[dict[str, object]]:
    """What the service holds, asked directly (not through the proxy or the client)."""
    notes: list[dict[str, object]] = httpx.get(server.base_url + "/notes?limit=500").json()
    return notes


def test_a_create_whose_answer_was_lost_is_retried_and_makes_exactly_one_note(
    proxy: FaultProxy, live_server: Server
) -> None:
    proxy.inject("drop", method="POST")
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        note = notes.create("exactly once")

    posts = proxy.requests("POST")
    assert [p.status for p in posts] == [None, 201]  # the first answer never arrived
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert stored_notes(live_server) == [note.model_dump(mode="json")]


async def test_the_async_client_retries_a_lost_create_into_exactly_one_note(
    proxy: FaultProxy, live_server: Server
) -> None:
    proxy.inject("drop", method="POST", times=2)
    async with AsyncNotesClient(proxy.base_url, retry=QUICK) as notes:
        note = await notes.create("exactly once, async")

    assert [p.status for p in proxy.requests("POST")] == [None, None, 201]
    assert [n["id"] for n in stored_notes(live_server)] == [note.id]


def test_a_503_is_retried_after_the_retry_after_it_names(proxy: FaultProxy) -> None:
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        note = notes.create("wait for me")
        proxy.inject("503", method="GET", times=2, retry_after="1")
        started = time.monotonic()
        assert notes.get(note.id) == note
        elapsed = time.monotonic() - started

    assert [e.status for e in proxy.requests("GET")] == [503, 503, 200]
    assert 2.0 <= elapsed < 3.5


def test_a_429_without_retry_after_is_retried_with_backoff(proxy: FaultProxy) -> None:
    proxy.inject("429", times=3)
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        assert list(notes.list()) == []

    assert [e.status for e in proxy.exchanges] == [429, 429, 429, 200]


def test_retrying_stops_at_the_deadline_with_the_last_answer(proxy: FaultProxy) -> None:
    proxy.inject("503", times=100, retry_after="1")
    policy = RetryPolicy(deadline=2.5, backoff_base=0.01)
    with NotesClient(proxy.base_url, retry=policy) as notes:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as raised:
            notes.get(1)
        elapsed = time.monotonic() - started

    assert raised.value.status == 503
    assert raised.value.retry_after == 1.0
    # At 0, 1 and 2 s; a fourth could not start before 2.5 s.
    assert raised.value.attempts == len(proxy.exchanges) == 3
    assert elapsed < 2.5


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(proxy: FaultProxy) -> None:
    proxy.inject("429", retry_after="60")
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        started = time.monotonic()
        with pytest.raises(RateLimited) as raised:
            notes.create("later")

    assert time.monotonic() - started < 1
    assert raised.value.retry_after == 60.0
    assert len(proxy.exchanges) == 1


def test_max_attempts_bounds_the_retries(proxy: FaultProxy) -> None:
    proxy.inject("503", times=10)
    policy = RetryPolicy(max_attempts=3, backoff_base=0.01)
    with (
        NotesClient(proxy.base_url, retry=policy) as notes,
        pytest.raises(ServiceUnavailable) as raised,
    ):
        notes.get(1)

    assert raised.value.attempts == len(proxy.exchanges) == 3


def test_a_stalled_answer_times_out_and_is_retried(proxy: FaultProxy) -> None:
    proxy.inject("stall")
    with NotesClient(proxy.base_url, timeout=0.5, retry=QUICK) as notes:
        started = time.monotonic()
        assert list(notes.list()) == []

    assert time.monotonic() - started < STALL_SECONDS
    assert [e.fault for e in proxy.exchanges] == ["stall", None]


def test_a_conditional_patch_whose_answer_was_lost_returns_its_own_result(
    proxy: FaultProxy, live_server: Server
) -> None:
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        note = notes.create("patch me")
        proxy.inject("drop", method="PATCH")
        patched = notes.patch(note, completed=True)

    # The retry met its own first attempt's write (412); the client saw that and checked.
    assert [e.status for e in proxy.requests("PATCH")] == [None, 412]
    assert (patched.version, patched.completed) == (2, True)
    assert stored_notes(live_server) == [patched.model_dump(mode="json")]


async def test_the_async_client_also_returns_its_own_write_whose_answer_was_lost(
    proxy: FaultProxy, live_server: Server
) -> None:
    async with AsyncNotesClient(proxy.base_url, retry=QUICK) as notes:
        note = await notes.create("replace me")
        proxy.inject("drop", method="PUT")
        replaced = await notes.replace(note, text="replaced", completed=True)

    assert [e.status for e in proxy.requests("PUT")] == [None, 412]
    assert (replaced.version, replaced.text, replaced.completed) == (2, "replaced", True)
    assert stored_notes(live_server) == [replaced.model_dump(mode="json")]


def test_a_412_after_a_lost_answer_is_still_raised_when_someone_else_wrote(
    proxy: FaultProxy, live_server: Server
) -> None:
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        note = notes.create("contested")
        proxy.inject("refuse", method="PUT")  # never arrives; meanwhile another writer wins
        httpx.patch(f"{live_server.base_url}/notes/{note.id}", json={"text": "theirs"})
        with pytest.raises(PreconditionFailed) as raised:
            notes.replace(note, text="mine", completed=True)

    assert raised.value.maybe_applied
    assert stored_notes(live_server)[0]["text"] == "theirs"


def test_a_delete_whose_answer_was_lost_succeeds(proxy: FaultProxy, live_server: Server) -> None:
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        note = notes.create("delete me")
        proxy.inject("drop", method="DELETE")
        notes.delete(note)

    assert [e.status for e in proxy.requests("DELETE")] == [None, 404]
    assert stored_notes(live_server) == []


def test_the_request_id_of_the_callers_context_goes_with_every_attempt(
    proxy: FaultProxy,
) -> None:
    proxy.inject("503", times=2)
    with NotesClient(proxy.base_url, retry=QUICK) as notes:
        with request_id("checkout-7f3a"):
            list(notes.list())
        list(notes.list())

    ids = [e.headers.get("x-request-id") for e in proxy.exchanges]
    assert ids == ["checkout-7f3a"] * 3 + [None]


def test_a_service_that_never_answers_raises_service_unreachable() -> None:
    port = free_port()  # nothing listens there
    policy = RetryPolicy(deadline=1.0, backoff_base=0.05, backoff_cap=0.2, max_attempts=100)
    with NotesClient(f"http://127.0.0.1:{port}", retry=policy) as notes:
        started = time.monotonic()
        with pytest.raises(ServiceUnreachable, match="attempt") as raised:
            notes.get(1)

    assert time.monotonic() - started < 1.5
    assert raised.value.attempts > 3
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


@pytest.mark.live
def test_calls_ride_out_a_service_that_is_down_until_it_starts(
    settings: Settings, tmp_dir: Path
) -> None:
    port = free_port()
    policy = RetryPolicy(deadline=60, max_attempts=1000, backoff_base=0.05, backoff_cap=0.3)
    with (
        NotesClient(f"http://127.0.0.1:{port}", retry=policy) as notes,
        ThreadPoolExecutor(1) as pool,
    ):
        pending = pool.submit(notes.create, "sent while the service was down")
        time.sleep(0.5)
        assert not pending.done()  # refused, and retrying
        with running_server({"DATABASE_URL": settings.DATABASE_URL}, tmp_dir, port=port) as up:
            note = pending.result(timeout=60)
            assert stored_notes(up) == [note.model_dump(mode="json")]


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (httpx.ConnectError("refused"), True),  # never left: safe for any request
        (httpx.ConnectTimeout("slow connect"), True),
        (httpx.ReadError("reset"), False),  # may have been applied
        (httpx.RemoteProtocolError("closed"), False),
        (httpx.ReadTimeout("slow answer"), False),
    ],
)
def test_a_post_without_idempotency_key_is_retried_only_when_it_was_never_sent(
    error: httpx.TransportError, retried: bool
) -> None:
    keyless = Call("POST", "/notes", "/notes", json={"text": "x"})
    keyed = Call("POST", "/notes", "/notes", json={"text": "x"}, headers={"Idempotency-Key": "k"})
    attempts = RetryPolicy().start()
    attempts.begin()

    assert not keyless.retry_safe
    assert keyed.retry_safe
    assert (attempts.after_error(error, retry_safe=keyless.retry_safe) is not None) is retried
    assert attempts.after_error(error, retry_safe=keyed.retry_safe) is not None


def test_waits_grow_exponentially_with_full_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(deadline=1000, max_attempts=100, backoff_base=0.1, backoff_cap=2.0)
    attempts = policy.start()
    ceilings = []
    for n in range(1, 10):
        attempts.begin()
        waits = [attempts._next_delay(least=0.0) or 0.0 for _ in range(200)]
        ceilings.append(min(2.0, 0.1 * 2 ** (n - 1)))
        assert all(0 <= w <= ceilings[-1] for w in waits)
        assert max(waits) > ceilings[-1] * 0.8  # spread over the whole range
        assert min(waits) < ceilings[-1] * 0.2
    assert ceilings[-1] == 2.0


@pytest.mark.parametrize("options", [{"deadline": 0}, {"max_attempts": 0}, {"backoff_base": -1.0}])
def test_a_policy_that_cannot_work_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="deadline"):
        RetryPolicy(**options)  # type: ignore[arg-type]
