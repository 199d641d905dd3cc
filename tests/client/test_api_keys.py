"""The client against a strict server: the API key passed once, a wrong one a clear
exception; writes by id refused where If-Match is required."""

from __future__ import annotations

import pytest

from notes_client import NotesClient, PreconditionRequired, Unauthorized
from tests.client.faults import fault_proxy


def test_with_its_key_the_client_does_everything(keyed_base_url: str, api_key: str) -> None:
    with NotesClient(keyed_base_url, api_key=api_key) as notes:
        note = notes.create("authorised")
        assert notes.get(note.id) == note
        assert list(notes.list()) == [note]
        notes.delete(notes.patch(note, completed=True))
        assert list(notes.list()) == []


@pytest.mark.parametrize("key", [None, "nsk_not-a-key"])
def test_without_a_valid_key_every_call_is_unauthorized_and_not_retried(
    keyed_base_url: str, key: str | None
) -> None:
    with fault_proxy(keyed_base_url) as proxy, NotesClient(proxy.base_url, api_key=key) as notes:
        with pytest.raises(Unauthorized) as raised:
            notes.create("refused")
        with pytest.raises(Unauthorized):
            list(notes.list())

    assert raised.value.status == 401
    assert raised.value.type == "/problems/unauthorized"
    assert [e.status for e in proxy.exchanges] == [401, 401]
    if key is not None:
        assert key not in str(raised.value)


def test_a_server_that_requires_if_match_refuses_writes_by_id(
    keyed_base_url: str, api_key: str
) -> None:
    with NotesClient(keyed_base_url, api_key=api_key) as notes:
        note = notes.create("strict")
        with pytest.raises(PreconditionRequired) as raised:
            notes.patch(note.id, completed=True)
        assert raised.value.status == 428
        assert notes.patch(note, completed=True).version == 2  # a Note sends If-Match
