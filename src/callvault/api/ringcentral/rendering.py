"""Records rendered as RingCentral JSON, kept for reuse while the stored record is unchanged.

Call-log clients poll: the same recent pages are listed again and again, and decoding a
stored record into domain objects and mapping it to the wire costs far more than reading it
(~30 µs Simple, ~100 µs Detailed, against a few µs of SQL per row). A rendered record depends
only on the stored version (``StoredRecord.version``: content hash, deletion, modification
time), the view, whose log lists it (its ``uri``) and the base URLs; with all of those in the
key, an entry can never be stale: a changed record has a new version and simply misses.

The cache is per process and bounded in bytes (least recently used entries go first);
``CALLVAULT_RENDER_CACHE_MB=0`` turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import orjson

from callvault.api.ringcentral.mapping import Uris, record_to_wire
from callvault.domain.query import StoredRecord

# Bytes an entry costs besides its JSON: the key tuple, the bytes object, the dict slot.
_ENTRY_OVERHEAD = 240


class RenderCache:
    """Rendered ``CallLogRecord`` JSON (bytes) by record version, view, log and URIs."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def render(
        self, stored: StoredRecord, uris: Uris, *, view: str, log_extension_id: int | None
    ) -> orjson.Fragment:
        """The record's wire JSON, rendered now or reused from an earlier request."""
        key = (
            uris.base,
            uris.media,
            uris.account_id,
            stored.id,
            stored.version,
            view,
            log_extension_id,
        )
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return orjson.Fragment(body)
            self.misses += 1
        # Rendered outside the lock: two threads may render the same record at once, and
        # both results are identical, so the second store is harmless.
        wire = record_to_wire(stored.load(), uris, view=view, log_extension_id=log_extension_id)
        body = orjson.dumps(wire)
        self._store(key, body)
        return orjson.Fragment(body)

    def _store(self, key: Hashable, body: bytes) -> None:
        size = len(body) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old) + _ENTRY_OVERHEAD
            self._entries[key] = body
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped) + _ENTRY_OVERHEAD

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
