"""The optional note cache behind conditional GETs (If-None-Match -> 304)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from notes_client.models import Note


class NoteCache:
    """The last `size` notes this client saw, least recently used evicted first.

    A cached note is never returned unchecked: `get` sends its ETag in If-None-Match and
    uses it only on a 304, so the cache saves bodies and parsing, never correctness.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("cache size must be >= 0")
        self.size = size
        self._notes: OrderedDict[int, Note] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, note_id: int) -> Note | None:
        with self._lock:
            note = self._notes.get(note_id)
            if note is not None:
                self._notes.move_to_end(note_id)
            return note

    def put(self, note: Note) -> Note:
        if self.size:
            with self._lock:
                self._notes[note.id] = note
                self._notes.move_to_end(note.id)
                while len(self._notes) > self.size:
                    self._notes.popitem(last=False)
        return note

    def forget(self, note_id: int) -> None:
        with self._lock:
            self._notes.pop(note_id, None)
