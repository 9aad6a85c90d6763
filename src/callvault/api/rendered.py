"""Response items rendered once and reused while the stored row they came from is unchanged.

API clients poll: the same recent pages of a call log, CDR list or incoming-call log are read
again and again, and turning a stored row into a face's wire JSON (decoding, mapping, enum
spellings, time formats) costs several times the SQL that read it. Each face renders an item
under a key that names everything the rendering depends on: the face and shape, the row, the
row's version (a value that changes with every write of the row) and whatever else shows in
it (base URLs, the log listing it …). With all of that in the key an entry is never stale: a
changed row has a new version and simply misses.

One cache per server process, shared by the faces, bounded in bytes (least recently used
entries go first); ``CALLVAULT_RENDER_CACHE_MB=0`` turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from starlette.requests import Request

# Bytes an entry costs besides its JSON and its key: the bytes object, the dict slot, links.
ENTRY_OVERHEAD = 160


def key_bytes(key: object) -> int:
    """About what a key holds in memory (CPython object sizes, shared objects counted as
    their own): keys hold versions, ids, URLs, and for some faces a row's values."""
    if isinstance(key, tuple):
        return 40 + 8 * len(key) + sum(key_bytes(part) for part in key)
    if isinstance(key, str | bytes):
        return 49 + len(key)
    return 32


class RenderedItems:
    """Rendered JSON items (bytes) by key; thread-safe, least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[bytes, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def item(self, key: Hashable, render: Callable[[], Any]) -> orjson.Fragment:
        """The item under ``key`` as JSON to embed in a response; ``render()`` (which returns
        what orjson can serialize) runs only when the key is not kept."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return orjson.Fragment(entry[0])
            self.misses += 1
        # Rendered outside the lock: two threads may render the same key at once; both
        # results are identical, so the second store is harmless.
        body = orjson.dumps(render())
        self._store(key, body)
        return orjson.Fragment(body)

    def _store(self, key: Hashable, body: bytes) -> None:
        size = len(body) + key_bytes(key) + ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (body, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def rendered_items(request: Request) -> RenderedItems:
    """The process's cache of rendered items (``create_app`` puts it in the app state)."""
    cache: RenderedItems = request.app.state.rendered_items
    return cache
