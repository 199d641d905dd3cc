"""NotesClient against the real service over HTTP: every endpoint, typed answers, errors."""

from __future__ import annotations

import tomllib
from datetime import UTC

import pytest

import notes_client
from notes_client import (
    IdempotencyKeyReused,
    Note,
    NoteNotFound,
    NotesClient,
    PreconditionFailed,
    ValidationFailed,
)
from tests.client.conftest import QUICK
from tests.client.faults import FaultProxy
from tests.servers import REPO_ROOT


def test_create_returns_the_stored_note(notes: NotesClient) -> None:
    note = notes.create("Buy milk")

    assert isinstance(note, Note)
    assert (note.text, note.completed, note.version) == ("Buy milk", False, 1)
    assert note.created_at.tzinfo is not None
    assert note.created_at.utcoffset() == UTC.utcoffset(None)
    assert notes.get(note.id) == note


def test_create_sends_a_fresh_idempotency_key_each_time(proxy: FaultProxy) -> None:
    with NotesClient(proxy.base_url) as notes:
        first = notes.create("same text")
        second = notes.create("same text")

    keys = [e.headers["idempotency-key"] for e in proxy.requests("POST")]
    assert first.id != second.id
    assert len(set(keys)) == 2


def test_a_caller_supplied_idempotency_key_makes_a_repeated_create_return_the_first(
    notes: NotesClient,
) -> None:
    first = notes.create("once", idempotency_key="order-17")
    again = notes.create("once", idempotency_key="order-17")

    assert again == first
    assert [n.id for n in notes.list()] == [first.id]
    with pytest.raises(IdempotencyKeyReused) as raised:
        notes.create("another body", idempotency_key="order-17")
    assert raised.value.status == 422
    assert raised.value.errors[0].loc == ("header", "idempotency-key")


def test_list_follows_link_pages_lazily(notes: NotesClient, proxy: FaultProxy) -> None:
    created = [notes.create(f"note {i}", completed=i % 2 == 0) for i in range(5)]

    with NotesClient(proxy.base_url) as paged:
        assert list(paged.list(page_size=2)) == created
        assert len(proxy.requests("GET")) == 3  # 2 + 2 + 1, no empty page
        assert list(paged.list(order="desc", page_size=2)) == created[::-1]
        assert list(paged.list(completed=True, page_size=1)) == created[::2]
        assert list(paged.list(q="NOTE 3")) == [created[3]]
        assert list(paged.list(after=created[2].id)) == created[3:]
        iterator = paged.list(page_size=2)
        before = len(proxy.requests("GET"))
        assert next(iterator) == created[0]
        assert len(proxy.requests("GET")) == before + 1  # one page fetched, not all


def test_conditional_patch_replace_and_delete(notes: NotesClient) -> None:
    note = notes.create("draft")

    patched = notes.patch(note, completed=True)
    replaced = notes.replace(patched, text="final", completed=False)
    notes.delete(replaced)

    assert (patched.version, patched.completed, patched.text) == (2, True, "draft")
    assert (replaced.version, replaced.text, replaced.completed) == (3, "final", False)
    with pytest.raises(NoteNotFound):
        notes.get(note.id)


def test_a_stale_note_raises_precondition_failed_and_changes_nothing(notes: NotesClient) -> None:
    note = notes.create("shared")
    theirs = notes.patch(note, text="their change")

    for write in (
        lambda: notes.patch(note, completed=True),
        lambda: notes.replace(note, text="mine", completed=True),
        lambda: notes.delete(note),
    ):
        with pytest.raises(PreconditionFailed) as raised:
            write()
        assert raised.value.status == 412
        assert raised.value.type == "/problems/precondition-failed"
        assert not raised.value.maybe_applied
    assert notes.get(note.id) == theirs


def test_writes_by_id_are_unconditional(notes: NotesClient) -> None:
    note = notes.create("by id")
    notes.patch(note, text="moved on")

    assert notes.patch(note.id, completed=True).version == 3
    assert notes.replace(note.id, text="x", completed=False).version == 4
    notes.delete(note.id)
    with pytest.raises(NoteNotFound):
        notes.delete(note.id)


def test_validation_errors_name_the_fields(notes: NotesClient) -> None:
    with pytest.raises(ValidationFailed) as raised:
        notes.create("   ")

    error = raised.value
    assert error.status == 422
    assert [e.loc for e in error.errors] == [("body", "text")]
    assert error.detail
    assert notes.patch(notes.create("x"), text=None, completed=None).version == 1  # {} is a no-op


def test_not_found_carries_the_problem_and_request_id(notes: NotesClient) -> None:
    with pytest.raises(NoteNotFound) as raised:
        notes.get(2_000_000_000)

    assert raised.value.status == 404
    assert raised.value.type == "/problems/not-found"
    assert "2000000000" in raised.value.detail
    assert "404" in str(raised.value)


def test_the_cache_revalidates_with_if_none_match(proxy: FaultProxy, notes: NotesClient) -> None:
    note = notes.create("cached")
    with NotesClient(proxy.base_url, cache_size=10) as cached:
        first = cached.get(note.id)
        second = cached.get(note.id)
        changed = notes.patch(note.id, text="changed elsewhere")
        third = cached.get(note.id)

    gets = proxy.requests("GET")
    assert [e.status for e in gets] == [200, 304, 200]
    assert "if-none-match" not in gets[0].headers
    assert gets[1].headers["if-none-match"] == '"1"'
    assert first == second == note
    assert third == changed


def test_the_api_key_is_sent_on_every_call_and_never_shown(proxy: FaultProxy) -> None:
    with NotesClient(proxy.base_url, api_key="nsk_secret", retry=QUICK) as notes:
        notes.create("x")
        list(notes.list())
        assert "nsk_secret" not in repr(notes)

    assert {e.headers["authorization"] for e in proxy.exchanges} == {"Bearer nsk_secret"}


def test_every_call_names_the_client_and_its_version(proxy: FaultProxy) -> None:
    declared = tomllib.loads((REPO_ROOT / "client" / "pyproject.toml").read_text())["project"]
    with NotesClient(proxy.base_url) as notes:
        list(notes.list())

    assert notes_client.__version__ == declared["version"]
    assert proxy.exchanges[0].headers["user-agent"] == f"notes-client/{declared['version']}"
